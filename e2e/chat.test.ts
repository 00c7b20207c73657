/// <reference lib="dom" />
// A user chats with the demo native agent: the answer streams in, survives a reload, and Stop
// keeps a partial answer marked as stopped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signIn, snapshot, stopAnswer, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';

describe('chat with a native agent', () => {
  const { platform, withPage } = useBrowserSuite();

  test('the answer streams in, the URL gains the conversation, and a reload shows the history', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await snapshot(page, 'agents');
      await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
      await page.getByTestId('chat-agent-name').filter({ hasText: DEMO_AGENT }).waitFor();
      const agentUrl = page.url();
      assert.match(new URL(agentUrl).pathname, /^\/chat\/[0-9a-f-]{36}$/);

      // Record every partial text the answer shows while it streams, to see it grow token by token.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { partials: string[] }).partials = seen;
        new MutationObserver(() => {
          const answer = document.querySelector(
            '[data-testid="message-assistant"][data-status="streaming"] [data-testid="message-content"]',
          );
          const text = answer?.textContent ?? '';
          if (text && seen[seen.length - 1] !== text) seen.push(text);
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      const input = page.getByTestId('chat-input');
      await input.fill('Hi there');
      await input.press('Enter');

      const answer = page.getByTestId('message-assistant').last();
      await page
        .locator('[data-testid="message-assistant"][data-status="completed"]')
        .filter({ hasText: 'Hello from the sandbox model. You said: "Hi there". This is turn 1.' })
        .waitFor();
      const partials = await page.evaluate(() => (window as unknown as { partials: string[] }).partials);
      assert.ok(partials.length >= 3, `the answer rendered in steps (saw ${partials.length})`);
      assert.ok(
        partials.every((p, i) => i === 0 || p.startsWith(partials[i - 1]!.slice(0, -1))),
        'each step extends the last',
      );
      await page.getByTestId('chat-send').waitFor();
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      const conversationId = new URL(page.url()).pathname.split('/').pop()!;
      await page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`).waitFor();
      // Rendered as markdown into the sanitised HTML container.
      assert.ok(await answer.getByTestId('message-content').evaluate((el) => el.classList.contains('markdown')));
      await snapshot(page, 'chat');

      // A second turn in the same conversation.
      await input.fill('And again');
      await input.press('Enter');
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').filter({ hasText: 'This is turn 2.' }).waitFor();

      await page.reload();
      await page.locator('[data-testid="message-assistant"]').nth(1).waitFor();
      const users = await page.locator('[data-testid="message-user"] [data-testid="message-content"]').allTextContents();
      assert.deepEqual(
        users.map((t) => t.trim()),
        ['Hi there', 'And again'],
      );
      const answers = await page.getByTestId('message-assistant').allTextContents();
      assert.match(answers[0]!, /You said: "Hi there"\. This is turn 1\./);
      assert.match(answers[1]!, /You said: "And again"\. This is turn 2\./);

      // Deleting the conversation (after confirming) removes it and opens a new chat.
      const item = page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"]`);
      await item.getByTestId('delete-conversation').click();
      const deleted = page.waitForResponse(
        (r) => r.url().endsWith(`/conversations/${conversationId}`) && r.request().method() === 'DELETE',
      );
      await page.getByTestId('confirm-dialog').getByTestId('confirm-ok').click();
      assert.equal((await deleted).status(), 204);
      await item.waitFor({ state: 'detached' });
      await page.waitForURL((url) => url.pathname === new URL(agentUrl).pathname);
      assert.equal(await page.getByTestId('message-user').count(), 0);
    });
  });

  test('Stop keeps the partial answer and shows it as stopped, also after a reload', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
      const input = page.getByTestId('chat-input');
      await input.fill('Take your time [slow]');
      await input.press('Enter');

      // Wait until some of the answer has arrived, then stop it.
      const streaming = page.locator('[data-testid="message-assistant"][data-status="streaming"]');
      await streaming.getByTestId('message-content').filter({ hasText: 'Hello' }).waitFor();
      // The new conversation is listed while its first answer streams, and says so.
      const listed = page.locator('[data-testid="conversation-item"][data-answering="true"]').filter({ hasText: 'Take your time [slow]' });
      await listed.waitFor();
      assert.match((await listed.textContent()) ?? '', /Answering…/);
      const { partial } = await stopAnswer(page);
      assert.match(partial, /^Hello/);
      assert.doesNotMatch(partial, /This is turn 1\./, 'the answer was cut short');
      assert.equal(await page.getByTestId('message-error').count(), 0);
      await page.getByTestId('chat-send').waitFor(); // the composer is usable again
      assert.equal(await input.isDisabled(), false);
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await page
        .locator('[data-testid="conversation-item"][data-answering="false"]')
        .filter({ hasText: 'Take your time [slow]' })
        .waitFor();
      await snapshot(page, 'chat-stopped');

      await page.reload();
      const stored = page.locator('[data-testid="message-assistant"][data-status="canceled"]');
      await stored.getByTestId('message-canceled').waitFor();
      const storedText = (await stored.getByTestId('message-content').textContent())?.trim() ?? '';
      assert.match(storedText, /^Hello/);
      assert.doesNotMatch(storedText, /This is turn 1\./);
    });
  });

  test('Stop from a second tab ends the answer streaming in the first', async () => {
    await withPage(async (first) => {
      await signIn(first, platform().admin);
      await first.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
      await first.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
      const agentPath = new URL(first.url()).pathname;
      const started = first.waitForResponse((r) => r.url().endsWith('/api/ai-agent/chat/completions'));
      await first.getByTestId('chat-input').fill('Answer slowly [slow]');
      await first.getByTestId('chat-input').press('Enter');
      const conversationId = (await started).headers()['x-conversation-id'];
      await first
        .locator('[data-testid="message-assistant"][data-status="streaming"]')
        .getByTestId('message-content')
        .filter({ hasText: 'Hello' })
        .waitFor();

      // The same user, in another tab, opens the conversation while it answers and presses Stop.
      const second = await first.context().newPage();
      await second.goto(`${agentPath}/${conversationId}`);
      const listedIn = (page: typeof first, answering: boolean) =>
        page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversationId}"][data-answering="${answering}"]`);
      await listedIn(second, true).waitFor(); // it knows the first tab is answering
      await second.getByTestId('chat-stop').click();

      const canceledIn = (page: typeof first) => page.locator('[data-testid="message-assistant"][data-status="canceled"]');
      await canceledIn(first).getByTestId('message-canceled').waitFor();
      const partial = (await canceledIn(first).getByTestId('message-content').textContent())?.trim() ?? '';
      assert.match(partial, /^Hello/);
      assert.doesNotMatch(partial, /This is turn 1\./, 'the answer was cut short');
      await canceledIn(second).getByTestId('message-canceled').waitFor();
      await second.getByTestId('chat-send').waitFor(); // both tabs can write again
      await first.getByTestId('chat-send').waitFor();
      await listedIn(second, false).waitFor(); // and neither lists the conversation as answering
      await listedIn(first, false).waitFor();
    });
  });
});
