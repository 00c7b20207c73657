/// <reference lib="dom" />
// Answers survive the page: a reload mid-answer shows the text so far, then the rest live, and Stop
// still works on the answer followed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { signIn, stopAnswer, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';

/** Records, from the page's first script on, each state the last answer shows: its status and text. */
async function recordAnswerStates(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: Array<{ status: string; text: string }> = [];
    (window as unknown as { answerStates: typeof seen }).answerStates = seen;
    new MutationObserver(() => {
      const answers = document.querySelectorAll('[data-testid="message-assistant"]');
      const answer = answers[answers.length - 1];
      if (!answer) return;
      const state = {
        status: answer.getAttribute('data-status') ?? '',
        text: answer.querySelector('[data-testid="message-content"]')?.textContent?.trim() ?? '',
      };
      const last = seen[seen.length - 1];
      if (!last || last.status !== state.status || last.text !== state.text) seen.push(state);
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** A TCP proxy to `target` that can drop every open connection at once, as a network does. */
async function startCuttableProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => sockets.forEach((socket) => socket.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve()) && sockets.forEach((socket) => socket.destroy())),
  };
}

const answerStates = (page: Page) =>
  page.evaluate(() => (window as unknown as { answerStates: Array<{ status: string; text: string }> }).answerStates);

/** Opens the demo agent and sends `text`; returns once the answer shows its first words, still streaming. */
async function askSlowly(page: Page, text: string): Promise<void> {
  if (!/\/chat\//.test(page.url())) await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
  await page
    .locator('[data-testid="message-assistant"][data-status="streaming"]')
    .getByTestId('message-content')
    .filter({ hasText: 'Hello' })
    .waitFor();
}

describe('answers that survive the page', () => {
  const { platform, withPage } = useBrowserSuite();

  test('a first answer: the URL holds its new conversation while it streams; a reload shows the text so far, then the rest live', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await askSlowly(page, 'Survive a reload [slow]');
      // The conversation is in the URL while its first answer is still streaming.
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      assert.equal(await page.locator('[data-testid="message-assistant"][data-status="streaming"]').count(), 1);
      const conversationUrl = page.url();

      await recordAnswerStates(page);
      await page.reload();
      assert.equal(page.url(), conversationUrl);
      const done = page.locator('[data-testid="message-assistant"][data-status="completed"]');
      await done.filter({ hasText: 'This is turn 1.' }).waitFor();
      const text = (await done.getByTestId('message-content').textContent())?.trim() ?? '';
      assert.match(text, /^Hello from the sandbox model\. You said: "Survive a reload \[slow\]"\. This is turn 1\./);
      assert.equal(text.split('Hello from the sandbox model').length, 2, 'nothing doubled');

      // After the reload the answer showed its text so far while still running, then grew to its end.
      const states = await answerStates(page);
      const partial = states.filter((s) => s.status === 'streaming' && s.text.length > 0);
      assert.ok(partial.length >= 2, `the running answer was shown, growing (saw ${JSON.stringify(states)})`);
      assert.ok(
        partial.every((s, i) => text.startsWith(s.text) && (i === 0 || s.text.length >= partial[i - 1]!.text.length)),
        'each state is a beginning of the answer, growing',
      );
      assert.ok(partial[0]!.text.length < text.length);

      // Stored whole: a second reload shows the same.
      await page.reload();
      await done.filter({ hasText: 'This is turn 1.' }).waitFor();
      assert.equal((await done.getByTestId('message-content').textContent())?.trim(), text);
    });
  });

  test('a network drop mid-answer does not end it: the page shows it on to its end', async () => {
    const proxy = await startCuttableProxy(platform().baseUrl);
    try {
      await withPage(async (page) => {
        // The page reaches the platform through a proxy whose connections the test can cut.
        await page.goto(`${proxy.url}/login`);
        await page.getByTestId('login-email').fill(platform().admin.email);
        await page.getByTestId('login-password').fill(platform().admin.password);
        await page.getByTestId('login-submit').click();
        await page.getByTestId('agent-grid').waitFor();
        const broken = page.waitForEvent('requestfailed', (r) => r.url().endsWith('/api/ai-agent/chat/completions'));
        await askSlowly(page, 'Through a network drop [slow]');
        proxy.cut();
        await broken; // the answer's connection is gone
        const done = page.locator('[data-testid="message-assistant"][data-status="completed"]');
        await done.filter({ hasText: 'This is turn 1.' }).waitFor();
        const text = (await done.getByTestId('message-content').textContent())?.trim() ?? '';
        assert.match(text, /^Hello from the sandbox model\. You said: "Through a network drop \[slow\]"\. This is turn 1\./);
        assert.equal(text.split('Hello from the sandbox model').length, 2, 'nothing doubled');
        assert.equal(await page.getByTestId('message-error').count(), 0);
      });
    } finally {
      await proxy.close();
    }
  });

  test('Stop while following an answer after a reload ends it, keeping its text', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await askSlowly(page, 'Stop me after a reload [slow]');
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await page.reload();
      await page
        .locator('[data-testid="message-assistant"][data-status="streaming"]')
        .getByTestId('message-content')
        .filter({ hasText: 'Hello' })
        .waitFor();
      const { canceled, partial } = await stopAnswer(page);
      assert.match(partial, /^Hello/);
      assert.doesNotMatch(partial, /This is turn 1\./, 'the answer was cut short');
      await page.getByTestId('chat-send').waitFor(); // the composer is usable again

      await page.reload();
      await canceled.getByTestId('message-canceled').waitFor();
      assert.equal((await canceled.getByTestId('message-content').textContent())?.trim(), partial);
    });
  });
});
