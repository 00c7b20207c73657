/// <reference lib="dom" />
// Images and files in chat: a user attaches them (the button, a drop on the chat, a paste), sees each
// upload with its progress and its own error, sends the rest, and finds them on the message, after a
// reload too; an image opens full size. The sandbox's describing bot says what it received, which
// proves the bytes went all the way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOTS, solidPng } from '@agentport/sandbox';
import type { JSHandle, Page } from 'playwright-core';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const DESCRIBING_AGENT = 'Sandbox Assistant';
/** The server's per-file limit in this suite: small, so that "too large" needs no large file. */
const FILE_MAX_BYTES = 64 * 1024;

interface TestFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const png = (name: string, width: number, height: number): TestFile => ({
  name,
  mimeType: 'image/png',
  buffer: solidPng(width, height, [200, 30, 30]),
});

/** Files as the page's clipboard or a drag carries them. */
function dataTransfer(page: Page, files: TestFile[]): Promise<JSHandle<DataTransfer>> {
  const plain = files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') }));
  return page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return transfer;
  }, plain);
}

async function paste(page: Page, files: TestFile[]): Promise<void> {
  const transfer = await dataTransfer(page, files);
  await page
    .getByTestId('chat-input')
    .evaluate(
      (input, clipboardData) => input.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true })),
      transfer,
    );
}

async function openAgent(page: Page, name: string): Promise<void> {
  await page.getByTestId('agent-card').filter({ hasText: name }).click();
  await page.getByTestId('chat-agent-name').filter({ hasText: name }).waitFor();
}

/** Imports the sandbox's File Inspector (a Coze bot that says what files it received) with the page's session. */
async function importFileInspector(page: Page): Promise<void> {
  const status = await page.evaluate(async (cozeBotId) => {
    const res = await fetch('/console/api/ai-agent/import/coze', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${localStorage.getItem('agentport.token')}` },
      body: JSON.stringify({ cozeBotId }),
    });
    return res.status;
  }, BOTS.fileInspector.id);
  assert.equal(status, 201);
}

const pending = (page: Page, name: string) => page.getByTestId('pending-file').filter({ hasText: name });

/** A PNG of about `bytes` bytes: stored uncompressed, so its size is its pixels'. */
const largePng = (name: string, bytes: number): TestFile => {
  const side = Math.ceil(Math.sqrt(bytes / 3));
  return { name, mimeType: 'image/png', buffer: solidPng(side, side, [30, 90, 200], 0) };
};

describe('images and files in chat', () => {
  const { platform, withPage } = useBrowserSuite({ env: { FILE_MAX_BYTES: String(FILE_MAX_BYTES) } });

  test('the attach button (by keyboard) uploads an image with its progress, shows its thumbnail, and Send waits for it', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openAgent(page, DESCRIBING_AGENT);
      await page.getByTestId('chat-input').fill('What is in this picture?');

      // Uploads crawl (16 KB/s), so the progress can be seen on its way.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 16 * 1024,
      });

      const chooser = page.waitForEvent('filechooser');
      await page.getByTestId('attach-button').press('Enter');
      await (await chooser).setFiles(largePng('holiday.png', 48 * 1024));
      const file = pending(page, 'holiday.png');
      await file.and(page.locator('[data-state="uploading"]')).waitFor();
      assert.equal(await page.getByTestId('chat-send').isDisabled(), true, 'Send waits for the upload');
      await page.waitForFunction(() => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="upload-progress"]');
        return bar !== null && bar.value > 0.2 && bar.value < 0.9;
      });
      await snapshot(page, 'attachment-uploading');

      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await file.and(page.locator('[data-state="uploaded"]')).waitFor();
      assert.equal(await file.getByTestId('upload-progress').count(), 0);
      const thumbnail = file.getByTestId('file-thumbnail');
      assert.ok(await thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the thumbnail shows the image');
      assert.match((await file.textContent()) ?? '', /holiday\.png\s*4\d(\.\d)? KB · image\/png/);
      assert.equal(await page.getByTestId('chat-send').isEnabled(), true);
      assert.equal(await page.getByTestId('chat-input').inputValue(), 'What is in this picture?');
    });
  });

  test('pasted and dropped files each show their own error (too large, unsupported), keeping the text and the others', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openAgent(page, DESCRIBING_AGENT);
      await page.getByTestId('chat-input').fill('Three files');

      await paste(page, [
        png('fine.png', 4, 3),
        largePng('huge.png', FILE_MAX_BYTES + 1024),
        { name: 'tool.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00 not an image at all') },
      ]);
      await pending(page, 'fine.png').and(page.locator('[data-state="uploaded"]')).waitFor();
      const tooLarge = pending(page, 'huge.png').getByTestId('pending-file-error');
      const unsupported = pending(page, 'tool.png').getByTestId('pending-file-error');
      assert.equal((await tooLarge.textContent())?.trim(), 'The file is too large: files of up to 64 KB can be sent.');
      assert.match((await unsupported.textContent()) ?? '', /^This kind of file cannot be sent\. Send .*PNG/);
      // Named and typed as a PNG, it is none: no broken thumbnail, the file icon instead.
      await pending(page, 'tool.png').getByTestId('file-thumbnail').waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('chat-input').inputValue(), 'Three files');
      assert.equal(await page.getByTestId('chat-send').isEnabled(), true, 'failed files do not hold Send back');

      // Dropped on the chat: the drop zone shows while the files are over it.
      const chat = page.getByTestId('chat-messages');
      const dropped = await dataTransfer(page, [png('dropped.png', 2, 2)]);
      await chat.dispatchEvent('dragenter', { dataTransfer: dropped });
      await page.getByTestId('drop-zone').waitFor();
      await snapshot(page, 'attachment-drop-zone');
      await chat.dispatchEvent('dragover', { dataTransfer: dropped });
      await chat.dispatchEvent('drop', { dataTransfer: dropped });
      await page.getByTestId('drop-zone').waitFor({ state: 'detached' });
      await pending(page, 'dropped.png').and(page.locator('[data-state="uploaded"]')).waitFor();
      await snapshot(page, 'attachment-errors');

      // Removing a failed file leaves the rest.
      await pending(page, 'huge.png').getByTestId('remove-file').click();
      assert.deepEqual(
        (await page.getByTestId('pending-file').getByTestId('file-name').allTextContents()).map((t) => t.trim()),
        ['fine.png', 'tool.png', 'dropped.png'],
      );

      // Send: the uploaded files go with the text, the failed one stays behind; the model saw both images' bytes.
      await page.getByTestId('chat-send').click();
      const question = page.getByTestId('message-user').last();
      await question.getByTestId('attachment-image').nth(1).waitFor();
      assert.equal(await question.getByTestId('message-attachment').count(), 2);
      const answer = page.locator('[data-testid="message-assistant"][data-status="completed"]');
      await answer.waitFor();
      assert.match(
        (await answer.getByTestId('message-content').textContent()) ?? '',
        /You said: "Three files"\. This is turn 1\..* Images: image\/png 4x3, 73 bytes; image\/png 2x2, \d+ bytes\./,
      );
      assert.equal(await page.getByTestId('pending-file').count(), 0, 'the composer is empty again');
    });
  });

  test('more files than a message may carry are refused with a message, the first ones kept', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openAgent(page, DESCRIBING_AGENT);
      await paste(
        page,
        Array.from({ length: 7 }, (_, i) => png(`page-${i + 1}.png`, 2, 2)),
      );
      assert.equal(
        (await page.getByTestId('attach-limit').textContent())?.trim(),
        'A message can carry at most 5 files: 2 files were not attached.',
      );
      assert.deepEqual(
        (await page.getByTestId('pending-file').getByTestId('file-name').allTextContents()).map((t) => t.trim()),
        ['page-1.png', 'page-2.png', 'page-3.png', 'page-4.png', 'page-5.png'],
      );
    });
  });

  test('an upload the network drops says so, and attaching the file again uploads it', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openAgent(page, DESCRIBING_AGENT);
      await page.route('**/api/ai-agent/files', (route) => route.abort('connectionreset'));
      await paste(page, [png('flaky.png', 3, 3)]);
      const failed = pending(page, 'flaky.png').getByTestId('pending-file-error');
      assert.equal((await failed.textContent())?.trim(), 'Could not reach the server. Check your connection and try again.');

      await page.unroute('**/api/ai-agent/files');
      await pending(page, 'flaky.png').getByTestId('remove-file').click();
      await paste(page, [png('flaky.png', 3, 3)]);
      await pending(page, 'flaky.png').and(page.locator('[data-state="uploaded"]')).waitFor();
    });
  });

  test('an image and a PDF reach a Coze bot whole; the message shows them after a reload, the image full size, the PDF downloads', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await importFileInspector(page);
      await page.reload();
      await openAgent(page, 'File Inspector');

      const image = png('red.png', 64, 48);
      // A name is text, never markup.
      const pdfName = '<img src=x onerror=window.pwned=1>report.pdf';
      const pdf = { name: pdfName, mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% a tiny test document\n%%EOF\n') };
      const chooser = page.waitForEvent('filechooser');
      await page.getByTestId('attach-button').click();
      await (await chooser).setFiles([image, pdf]);
      await pending(page, 'red.png').and(page.locator('[data-state="uploaded"]')).waitFor();
      await pending(page, 'report.pdf').and(page.locator('[data-state="uploaded"]')).waitFor();
      await page.getByTestId('chat-input').fill('Please look');
      const sent = page.waitForRequest((r) => r.url().endsWith('/chat/completions') && r.method() === 'POST');
      await page.getByTestId('chat-input').press('Enter');
      const content = JSON.parse((await sent).postData()!).messages[0].content as { type: string }[];
      assert.deepEqual(
        content.map((part) => part.type),
        ['text', 'file', 'file'],
      );

      const answer = page.locator('[data-testid="message-assistant"][data-status="completed"]');
      await answer.filter({ hasText: 'Text: "Please look"' }).waitFor();
      const answerText = (await answer.last().textContent()) ?? '';
      assert.match(answerText, /Received 2 files: /);
      assert.ok(answerText.includes(`image/png 64x48, ${image.buffer.length} bytes`), answerText);
      assert.ok(answerText.includes(`application/pdf, ${pdf.buffer.length} bytes`), answerText);
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);

      const checkMessage = async () => {
        const question = page.getByTestId('message-user').last();
        const thumbnail = question.getByTestId('attachment-image');
        await thumbnail.locator('img').waitFor();
        await page.waitForFunction(() => {
          const img = document.querySelector<HTMLImageElement>('[data-testid="attachment-image"] img');
          return img !== null && img.complete && img.naturalWidth === 64;
        });
        const chip = question.getByTestId('file-chip');
        assert.equal((await chip.getByTestId('file-name').textContent())?.trim(), pdfName);
        assert.equal(await chip.locator('img').count(), 0);
        return { question, thumbnail, chip };
      };
      await checkMessage();
      await snapshot(page, 'attachments-sent');

      // After a reload, from the stored message.
      await page.reload();
      const { thumbnail, chip } = await checkMessage();
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);

      // Full size in a dialog; Esc closes it and the focus returns to the thumbnail.
      await thumbnail.click();
      const viewer = page.getByTestId('image-viewer');
      await viewer.waitFor();
      assert.equal(await viewer.getByTestId('image-viewer-image').evaluate((img: HTMLImageElement) => img.naturalHeight), 48);
      await snapshot(page, 'attachments-viewer');
      await page.keyboard.press('Escape');
      await viewer.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'attachment-image');

      // The PDF downloads under its name, with its bytes.
      const download = page.waitForEvent('download');
      await chip.getByTestId('attachment-download').click();
      const file = await download;
      assert.match(file.suggestedFilename(), /report\.pdf$/);
      const stream = await file.createReadStream();
      const chunks: Buffer[] = [];
      for await (const piece of stream) chunks.push(piece as Buffer);
      assert.deepEqual(Buffer.concat(chunks), pdf.buffer);

      // An edited message keeps its files: the bot receives both again.
      await page.getByTestId('message-user').last().getByTestId('edit-message').click();
      await page.getByTestId('message-editor-input').fill('Look again');
      await page.getByTestId('message-editor-save').click();
      await answer.filter({ hasText: 'Text: "Look again"' }).waitFor();
      assert.match((await answer.last().textContent()) ?? '', /Received 2 files: /);
      await checkMessage();

      // Regenerated: the message goes again with its files, and the bot receives both again.
      const regenerated = page.waitForRequest((r) => r.url().endsWith('/chat/completions') && r.method() === 'POST');
      const finished = page.waitForResponse((r) => r.url().endsWith('/chat/completions'));
      await answer.last().getByTestId('regenerate-message').click();
      const resent = JSON.parse((await regenerated).postData()!);
      assert.deepEqual(
        (resent.messages.at(-1).content as { type: string }[]).map((part) => part.type),
        ['text', 'file', 'file'],
      );
      await (await finished).finished();
      const again = (await answer.last().textContent()) ?? '';
      assert.ok(again.includes(`image/png 64x48, ${image.buffer.length} bytes`), again);
      assert.ok(again.includes(`application/pdf, ${pdf.buffer.length} bytes`), again);
      await checkMessage();
    });
  });
});

describe("the composer keeps to the server's file limits", () => {
  const SMALL_MAX_BYTES = 16 * 1024;
  const { platform, withPage } = useBrowserSuite({
    env: { FILES_PER_MESSAGE: '2', FILE_MAX_BYTES: String(SMALL_MAX_BYTES), FILE_TYPES: 'image/png,application/pdf' },
  });

  test('a third file, or one over FILE_MAX_BYTES, is refused with a message and never uploaded; the picker offers the types', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openAgent(page, DESCRIBING_AGENT);
      const uploads: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/api/ai-agent/files') && r.method() === 'POST') uploads.push(r.url());
      });
      await page.waitForFunction(
        () => document.querySelector('[data-testid="file-input"]')?.getAttribute('accept') === 'image/png,application/pdf',
      );

      const chooser = page.waitForEvent('filechooser');
      await page.getByTestId('attach-button').click();
      await (await chooser).setFiles([png('one.png', 2, 2), largePng('huge.png', SMALL_MAX_BYTES + 1024), png('three.png', 2, 2)]);
      assert.equal(
        (await page.getByTestId('attach-limit').textContent())?.trim(),
        'A message can carry at most 2 files: 1 file was not attached.',
      );
      await pending(page, 'one.png').and(page.locator('[data-state="uploaded"]')).waitFor();
      assert.equal(
        (await pending(page, 'huge.png').getByTestId('pending-file-error').textContent())?.trim(),
        'The file is too large: files of up to 16 KB can be sent.',
      );
      assert.equal(await pending(page, 'three.png').count(), 0);

      // The failed file leaves room: a second file is attached; a third is not.
      await paste(page, [png('two.png', 2, 2), png('four.png', 2, 2)]);
      await pending(page, 'two.png').and(page.locator('[data-state="uploaded"]')).waitFor();
      assert.equal(
        (await page.getByTestId('attach-limit').textContent())?.trim(),
        'A message can carry at most 2 files: 1 file was not attached.',
      );
      assert.equal(uploads.length, 2, 'only one.png and two.png were uploaded');
    });
  });
});
