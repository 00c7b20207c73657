/// <reference lib="dom" />
// The chat as a person uses it, on a laptop (1280x800) and a phone (390x844): the page fits the
// window and follows the answer, the focus is where the hands are, failures read as sentences,
// answers show their states, and the colours follow the system or the header's theme toggle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';
const LAPTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function openDemoChat(page: Page, admin: { email: string; password: string }): Promise<void> {
  await signIn(page, admin);
  await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
  await page.getByTestId('chat-agent-name').filter({ hasText: DEMO_AGENT }).waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
}

const answer = (page: Page, status: string) => page.locator(`[data-testid="message-assistant"][data-status="${status}"]`);

/** How far the message list is from its bottom, and whether it overflows at all. */
function listPosition(page: Page): Promise<{ fromBottom: number; top: number; height: number; overflow: number }> {
  return page.getByTestId('chat-messages').evaluate((el) => ({
    fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight,
    top: el.scrollTop,
    height: el.scrollHeight,
    overflow: el.scrollHeight - el.clientHeight,
  }));
}

/** Waits until the message list is scrolled to its end (within a pixel) and overflows by `minOverflow`. */
async function waitAtBottom(page: Page, minOverflow = 1): Promise<void> {
  await page.waitForFunction((min) => {
    const el = document.querySelector('[data-testid="chat-messages"]');
    return !!el && el.scrollHeight - el.clientHeight >= min && el.scrollHeight - el.scrollTop - el.clientHeight <= 1;
  }, minOverflow);
}

async function waitListTallerThan(page: Page, height: number): Promise<void> {
  await page.waitForFunction((h) => (document.querySelector('[data-testid="chat-messages"]')?.scrollHeight ?? 0) > h, height);
}

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

async function waitFocused(page: Page, testId: string): Promise<void> {
  await page.waitForFunction((id) => document.activeElement?.getAttribute('data-testid') === id, testId);
}

/** Sideways overflow of the document: what a phone user would find by swiping. */
const sidewaysOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

const rootBackground = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(15, 17, 23)';

describe('chat layout and experience', () => {
  const { platform, withPage } = useBrowserSuite();

  test('the chat fills the window, follows a streaming answer, offers "Jump to latest", and reopens at the last message', async () => {
    await withPage(async (page) => {
      await openDemoChat(page, platform().admin);
      await waitFocused(page, 'chat-input'); // ready to type on arrival

      // A long answer (300 deltas, 50 ms apart) that overflows the list while it streams.
      await send(page, '[bench:300] tell me a long story');
      await waitAtBottom(page, 300);
      await snapshot(page, 'layout-streaming');

      // Only the list scrolls: the document fits the window, composer and Stop stay on screen.
      // (No named functions inside evaluate: tsx would wrap them in a helper the page does not have.)
      const fit = await page.evaluate(() => ({
        documentHeight: document.documentElement.scrollHeight,
        windowHeight: window.innerHeight,
        input: document.querySelector('[data-testid="chat-input"]')!.getBoundingClientRect().bottom,
        stop: document.querySelector('[data-testid="chat-stop"]')!.getBoundingClientRect().bottom,
      }));
      assert.ok(fit.documentHeight <= fit.windowHeight, `the document does not scroll (${fit.documentHeight} > ${fit.windowHeight})`);
      assert.ok(fit.input <= fit.windowHeight && fit.stop <= fit.windowHeight, 'composer and Stop are on screen');
      assert.ok(await page.getByTestId('chat-input').isEnabled(), 'the composer stays usable while the answer streams');

      // The view keeps following the answer as it grows.
      const following = await listPosition(page);
      await waitListTallerThan(page, following.height + 60);
      await waitAtBottom(page);

      // The reader scrolls up: the view stays where they are, and "Jump to latest" appears.
      await page.getByTestId('chat-messages').hover();
      await page.mouse.wheel(0, -5000);
      await page.getByTestId('jump-latest').waitFor();
      const reading = await listPosition(page);
      assert.ok(reading.fromBottom > 80, 'scrolled up');
      await waitListTallerThan(page, reading.height + 60);
      assert.equal((await listPosition(page)).top, reading.top, 'the growing answer does not pull the reader down');
      assert.equal(await answer(page, 'streaming').count(), 1, 'still streaming while the reader reads');

      // "Jump to latest" brings them back, and the view follows again.
      await page.getByTestId('jump-latest').click();
      await waitAtBottom(page);
      await page.getByTestId('jump-latest').waitFor({ state: 'detached' });
      const back = await listPosition(page);
      await waitListTallerThan(page, back.height + 60);
      await waitAtBottom(page);

      await answer(page, 'completed').waitFor({ timeout: 40_000 });
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);

      // Reopened, the conversation shows its last message.
      await page.reload();
      await answer(page, 'completed').waitFor();
      await waitAtBottom(page, 300);
      assert.equal(await page.getByTestId('jump-latest').count(), 0);
    }, LAPTOP);
  });

  test('on a phone nothing scrolls sideways, the console lists agents as cards, and Esc closes the conversation drawer', async () => {
    await withPage(async (page) => {
      await openDemoChat(page, platform().admin);
      const longLine = 'const answer = ' + '"sideways"'.repeat(40) + ';';
      await send(page, `Show me\n\n\`\`\`js\n${longLine}\n\`\`\`\n\nand https://example.com/${'a-very-long-path-segment-'.repeat(8)}`);
      await answer(page, 'completed').getByTestId('message-content').locator('pre').waitFor();
      await snapshot(page, 'layout-phone-chat');
      assert.ok((await sidewaysOverflow(page)) <= 0, 'the chat page does not scroll sideways');
      const composer = await page.getByTestId('chat-input').boundingBox();
      assert.ok(composer && composer.x >= 0 && composer.x + composer.width <= 390, 'the composer fits the screen');
      assert.ok(composer.y + composer.height <= 844, 'the composer is on screen');

      // The conversation drawer: Esc closes it and gives the focus back to its toggle.
      const toggle = page.getByRole('button', { name: 'Show conversations' });
      await toggle.click();
      await page.getByTestId('chat-sidebar').getByTestId('conversation-item').first().waitFor({ state: 'visible' });
      await waitFocused(page, 'new-chat'); // the keyboard carries on in the drawer
      await page.keyboard.press('Escape');
      await page.getByTestId('chat-sidebar').waitFor({ state: 'hidden' });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      assert.ok(await toggle.evaluate((el) => el === document.activeElement), 'the focus is back on the drawer toggle');

      await page.getByTestId('console-link').click();
      const rows = page.getByTestId('agent-row');
      await rows.first().waitFor();
      await snapshot(page, 'layout-phone-console');
      assert.ok((await sidewaysOverflow(page)) <= 0, 'the console does not scroll sideways');
      const hidden = await page
        .getByTestId('agents-table')
        .evaluate((table) => table.closest('.table-wrap')!.scrollWidth - table.closest('.table-wrap')!.clientWidth);
      assert.ok(hidden <= 0, `no table scrolls sideways inside the page (${hidden}px hidden)`);
      // Each agent is a card: its name, its switch and its actions are all on screen.
      for (const testId of ['agent-row-name', 'published-toggle', 'edit-agent', 'delete-agent']) {
        const box = await rows.first().getByTestId(testId).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${testId} is on screen`);
      }
      const card = await rows.first().boundingBox();
      assert.ok(card && card.x >= 0 && card.x + card.width <= 390, 'the card fits the screen');
    }, PHONE);
  });

  test('the composer keeps the focus, and Esc closes dialogs and returns the focus to what opened them', async () => {
    await withPage(async (page) => {
      await openDemoChat(page, platform().admin);
      await waitFocused(page, 'chat-input');
      await page.getByTestId('chat-input').fill('Hello by click');
      await page.getByTestId('chat-send').click();
      await waitFocused(page, 'chat-input'); // after sending with the button, too
      await answer(page, 'completed').waitFor();
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      assert.equal(await focusedTestId(page), 'chat-input');

      const remove = page.getByTestId('conversation-item').first().getByTestId('delete-conversation');
      const conversations = await page.getByTestId('conversation-item').count();
      await remove.focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('confirm-dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
      await waitFocused(page, 'delete-conversation');
      assert.equal(await page.getByTestId('conversation-item').count(), conversations, 'Esc deleted nothing');

      await page.getByTestId('console-link').click();
      await page.getByTestId('create-agent').click();
      await page.getByTestId('agent-dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByTestId('agent-dialog').waitFor({ state: 'detached' });
      await waitFocused(page, 'create-agent');
    }, LAPTOP);
  });

  test('failures read as sentences: no validation text, no upstream status', async () => {
    await withPage(async (page) => {
      await openDemoChat(page, platform().admin);

      // A request the server rejects as invalid (forced here: the page itself sends valid ones).
      await page.route('**/api/ai-agent/chat/completions', async (route) => {
        const body = JSON.parse(route.request().postData() ?? '{}') as { messages: { content: unknown }[] };
        body.messages[0]!.content = 42;
        await route.continue({ postData: JSON.stringify(body) });
      });
      const rejected = page.waitForResponse((r) => r.url().endsWith('/chat/completions'));
      await send(page, 'Hello');
      assert.equal((await rejected).status(), 400);
      const invalid = await page.getByTestId('message-error').last().textContent();
      assert.equal(invalid?.trim(), 'This request was not accepted. Check what you entered and try again.');
      await page.unroute('**/api/ai-agent/chat/completions');

      // The model endpoint fails with a 500: the chat says so in words, not with the status line.
      await page.getByTestId('new-chat').click();
      await send(page, '[error] please fail');
      const failed = answer(page, 'failed');
      await failed.waitFor();
      const text = (await failed.getByTestId('message-error').textContent())?.trim() ?? '';
      assert.equal(text, 'The agent could not answer just now. Please try again.');
      assert.doesNotMatch(text, /500|endpoint|HTTP/);
      // An answer that failed before any text is only its error: no empty bubble above it.
      assert.equal(await failed.locator('.bubble').count(), 0);

      // The same after a reload, from the stored message.
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await page.reload();
      const stored = answer(page, 'failed');
      await stored.waitFor();
      assert.equal((await stored.getByTestId('message-error').textContent())?.trim(), text);
      assert.equal(await stored.locator('.bubble').count(), 0);
    }, LAPTOP);
  });

  test('answers show their states: partial text above an error, reasoning open only while it streams, token usage', async () => {
    await withPage(async (page) => {
      await openDemoChat(page, platform().admin);

      // The model's connection drops after a few words: they stay, the error follows.
      await send(page, '[fail] cut me off');
      const cut = answer(page, 'failed');
      await cut.waitFor();
      assert.match((await cut.getByTestId('message-content').textContent()) ?? '', /^Hello/);
      assert.equal(
        (await cut.getByTestId('message-error').textContent())?.trim(),
        'The answer was cut off before it finished. Please try again.',
      );

      // Reasoning is open while it streams, folded once the answer is there.
      await page.getByTestId('new-chat').click();
      await send(page, '[reason] [slow] think first');
      const streaming = answer(page, 'streaming');
      await streaming.locator('[data-testid="message-reasoning"][open]').waitFor();
      assert.equal(await streaming.getByTestId('message-content').count(), 0, 'open while only the reasoning has come');
      const done = answer(page, 'completed');
      await done.waitFor({ timeout: 30_000 });
      assert.equal(await done.getByTestId('message-reasoning').getAttribute('open'), null, 'folded after it finished');
      assert.match((await done.getByTestId('message-reasoning').textContent()) ?? '', /I should greet them/);

      // The answer's token usage, in a small line under it, live and after a reload.
      assert.match((await done.getByTestId('message-usage').textContent())?.trim() ?? '', /^\d[\d,]* tokens$/);
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await page.reload();
      await answer(page, 'completed').getByTestId('message-usage').waitFor();
    }, LAPTOP);
  });

  test('dark mode follows the system, and the header toggle picks light or dark and is remembered', async () => {
    await withPage(
      async (page) => {
        await signIn(page, platform().admin);
        const toggle = page.getByTestId('theme-toggle');
        assert.equal(await toggle.getAttribute('data-theme-choice'), 'system');
        assert.equal(await rootBackground(page), DARK_BG);
        await snapshot(page, 'layout-dark');

        await toggle.click();
        assert.equal(await toggle.getAttribute('data-theme-choice'), 'light');
        assert.equal(await rootBackground(page), LIGHT_BG);
        await page.reload();
        await page.getByTestId('agent-grid').waitFor();
        assert.equal(await rootBackground(page), LIGHT_BG, 'remembered across a reload');

        await toggle.click();
        assert.equal(await toggle.getAttribute('data-theme-choice'), 'dark');
        await page.emulateMedia({ colorScheme: 'light' });
        assert.equal(await rootBackground(page), DARK_BG, 'a chosen theme holds whatever the system says');

        await toggle.click();
        assert.equal(await toggle.getAttribute('data-theme-choice'), 'system');
        assert.equal(await rootBackground(page), LIGHT_BG, 'back to following the system');
        await page.emulateMedia({ colorScheme: 'dark' });
        assert.equal(await rootBackground(page), DARK_BG);
      },
      { ...LAPTOP, colorScheme: 'dark' },
    );
  });
});
