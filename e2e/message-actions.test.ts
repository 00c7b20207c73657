/// <reference lib="dom" />
// What a user can do with the messages of a chat: copy an answer or one of its code blocks (which
// are highlighted, by a highlighter fetched only once a code block shows), answer the last message
// again, edit a message and send it in place of the later turns, retry an answer that failed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';
/** The highlighter's chunk (web/src/highlight.ts), as Vite names it. */
const HIGHLIGHTER_CHUNK = /\/assets\/highlight-[\w-]+\.js$/;

async function openDemoAgent(page: Page): Promise<void> {
  await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
  await page.getByTestId('chat-agent-name').filter({ hasText: DEMO_AGENT }).waitFor();
}

async function ask(page: Page, text: string, answered: string): Promise<void> {
  const input = page.getByTestId('chat-input');
  await input.fill(text);
  await input.press('Enter');
  await page.locator('[data-testid="message-assistant"][data-status="completed"]').filter({ hasText: answered }).waitFor();
  await page.getByTestId('chat-send').waitFor();
}

const texts = async (page: Page, role: 'user' | 'assistant') =>
  (await page.locator(`[data-testid="message-${role}"] [data-testid="message-content"]`).allTextContents()).map((t) => t.trim());
const userMessages = (page: Page) => texts(page, 'user');
const answers = (page: Page) => texts(page, 'assistant');
const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

describe('message actions', () => {
  const { platform, withPage } = useBrowserSuite();

  test('an answer and a code block are copied; code is highlighted by a chunk loaded only once code shows', async () => {
    await withPage(async (page) => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      const scripts: string[] = [];
      page.on('request', (request) => {
        if (request.resourceType() === 'script') scripts.push(request.url());
      });
      await signIn(page, platform().admin);
      await openDemoAgent(page);

      await ask(page, 'Hi there', 'This is turn 1.');
      const first = page.getByTestId('message-assistant').first();
      await first.getByTestId('copy-message').click();
      await first.getByTestId('copy-message').filter({ hasText: 'Copied' }).waitFor();
      const answerText = (await first.getByTestId('message-content').textContent())!.trim();
      assert.match(answerText, /^Hello from the sandbox model\. You said: "Hi there"\. This is turn 1\./);
      assert.equal(await clipboard(page), answerText);
      assert.ok(!scripts.some((url) => HIGHLIGHTER_CHUNK.test(url)), `no highlighter before any code: ${scripts.join(', ')}`);

      // The sandbox model repeats the message, so its answer holds this code block.
      await ask(page, 'Some code:\n```js\nconst answer = 42; // the answer\n```\nThat is all', 'This is turn 2.');
      const second = page.getByTestId('message-assistant').nth(1);
      const block = second.locator('pre');
      await block.locator('code.hljs.language-js span.hljs-keyword').filter({ hasText: 'const' }).waitFor();
      assert.equal(await block.locator('span.hljs-comment').textContent(), '// the answer');
      assert.equal(await block.locator('code').textContent(), 'const answer = 42; // the answer\n');
      assert.ok(
        scripts.some((url) => HIGHLIGHTER_CHUNK.test(url)),
        `the highlighter chunk was loaded: ${scripts.join(', ')}`,
      );
      await snapshot(page, 'chat-code-block');

      await block.getByTestId('code-copy').click();
      await block.getByTestId('code-copy').filter({ hasText: 'Copied' }).waitFor();
      assert.equal(await clipboard(page), 'const answer = 42; // the answer');
    });
  });

  test('the last answer is answered again, and an edited message replaces the later turns, also after a reload', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openDemoAgent(page);
      await ask(page, 'First', 'You said: "First". This is turn 1.');
      await ask(page, 'Second', 'You said: "Second". This is turn 2.');
      await ask(page, 'Third', 'You said: "Third". This is turn 3.');
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);

      // Only the last answer offers Regenerate; it replaces that answer, not adds a turn.
      assert.equal(await page.getByTestId('regenerate-message').count(), 1);
      const regenerated = page.waitForRequest((r) => r.url().endsWith('/chat/completions') && r.method() === 'POST');
      await page.getByTestId('message-assistant').last().getByTestId('regenerate-message').click();
      assert.equal(JSON.parse((await regenerated).postData()!).messages[0].content, 'Third');
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').nth(2).waitFor();
      await page.getByTestId('chat-send').waitFor();
      assert.deepEqual(await userMessages(page), ['First', 'Second', 'Third']);
      assert.match((await answers(page))[2]!, /You said: "Third"\. This is turn 3\./);

      // Edit the second message: the third turn goes, the edited one is answered in its place.
      const second = page.getByTestId('message-user').nth(1);
      await second.getByTestId('edit-message').click();
      const editor = page.getByTestId('message-editor');
      assert.equal(await editor.getByTestId('message-editor-input').inputValue(), 'Second');
      await editor.getByTestId('message-editor-input').fill('Second, edited');
      await editor.getByTestId('message-editor-save').click();
      await page
        .locator('[data-testid="message-assistant"][data-status="completed"]')
        .filter({ hasText: 'You said: "Second, edited". This is turn 2.' })
        .waitFor();
      await page.getByTestId('chat-send').waitFor();
      assert.deepEqual(await userMessages(page), ['First', 'Second, edited']);
      assert.equal((await answers(page)).length, 2);
      await snapshot(page, 'chat-edited');

      await page.reload();
      await page.getByTestId('message-assistant').nth(1).waitFor();
      assert.deepEqual(await userMessages(page), ['First', 'Second, edited']);
      const stored = await answers(page);
      assert.equal(stored.length, 2);
      assert.match(stored[1]!, /You said: "Second, edited"\. This is turn 2\./);

      // Cancel leaves the message as it was.
      await page.getByTestId('message-user').first().getByTestId('edit-message').click();
      await page.getByTestId('message-editor-input').fill('Never sent');
      await page.getByTestId('message-editor-cancel').click();
      await page.getByTestId('message-editor').waitFor({ state: 'detached' });
      assert.deepEqual(await userMessages(page), ['First', 'Second, edited']);
    });
  });

  test('an answer that failed is retried in place', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await openDemoAgent(page);
      const input = page.getByTestId('chat-input');
      // The sandbox model breaks off its first answer to this message and answers it whole the next time.
      await input.fill('Shaky start [flaky]');
      await input.press('Enter');
      const failed = page.locator('[data-testid="message-assistant"][data-status="failed"]');
      await failed.getByTestId('message-error').waitFor();
      await page.getByTestId('chat-send').waitFor();
      assert.equal(await page.getByTestId('regenerate-message').count(), 0);

      await failed.getByTestId('retry-message').click();
      await page
        .locator('[data-testid="message-assistant"][data-status="completed"]')
        .filter({ hasText: 'You said: "Shaky start [flaky]". This is turn 1.' })
        .waitFor();
      assert.equal(await page.getByTestId('message-error').count(), 0);
      assert.deepEqual(await userMessages(page), ['Shaky start [flaky]']);
      assert.equal((await answers(page)).length, 1);

      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await page.reload();
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').waitFor();
      assert.equal(await page.getByTestId('message-error').count(), 0);
      assert.deepEqual(await userMessages(page), ['Shaky start [flaky]']);
    });
  });
});
