// An admin imports Coze bots from the sandbox's space; users then chat with them like any agent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOTS } from '@agentport/sandbox';
import type { Page } from 'playwright-core';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const rowNamed = (page: Page, name: string) =>
  page.getByTestId('agent-row').filter({ has: page.getByTestId('agent-row-name').getByText(name, { exact: true }) });
const cardNamed = (page: Page, name: string) =>
  page.getByTestId('agent-card').filter({ has: page.getByTestId('agent-name').getByText(name, { exact: true }) });
const completedAnswer = (page: Page, text: string) =>
  page.locator('[data-testid="message-assistant"][data-status="completed"]').filter({ hasText: text });

describe('Coze import', () => {
  const { platform, withPage } = useBrowserSuite();

  test('an admin imports bots, they show with downloaded avatars, chat with follow-ups, and Stop works', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.getByTestId('console-link').click();
      await page.getByTestId('import-agent').click();
      const dialog = page.getByTestId('import-dialog');
      await dialog.getByTestId('import-tab-coze').waitFor();
      const bots = dialog.getByTestId('coze-bot');
      await bots.first().waitFor();
      // An icon the browser cannot load (here the sandbox's http URL, which the page's CSP refuses; in
      // production a signature that expired) shows the bot's initials, not a broken image.
      const travel = dialog.locator(`[data-testid="coze-bot"][data-bot-id="${BOTS.travel.id}"]`);
      assert.equal(await travel.getByTestId('agent-avatar-initials').textContent(), 'TP');
      await snapshot(page, 'import-dialog');

      // The space holds more bots than one page: paging moves to the next ones.
      const firstPageIds = await bots.evaluateAll((els) => els.map((el) => el.getAttribute('data-bot-id')));
      await dialog.getByTestId('coze-next').click();
      await page.waitForFunction((ids) => {
        const now = [...document.querySelectorAll('[data-testid="coze-bot"]')].map((el) => el.getAttribute('data-bot-id'));
        return now.length > 0 && !now.some((id) => ids.includes(id));
      }, firstPageIds);

      // Search (debounced, server-side keyword) and select two bots across searches.
      const search = dialog.getByTestId('coze-search');
      const echo = dialog.locator(`[data-testid="coze-bot"][data-bot-id="${BOTS.echo.id}"]`);
      const slow = dialog.locator(`[data-testid="coze-bot"][data-bot-id="${BOTS.slow.id}"]`);
      const listed = page.waitForResponse((r) => r.url().includes('/coze/list') && r.url().includes('keyword=echo'));
      await search.fill('echo');
      await listed;
      await echo.getByTestId('coze-bot-checkbox').check();
      await search.fill('slow');
      await slow.getByTestId('coze-bot-checkbox').check();
      await dialog.getByTestId('import-submit').click();

      for (const id of [BOTS.echo.id, BOTS.slow.id]) {
        await dialog.locator(`[data-testid="import-progress-item"][data-bot-id="${id}"][data-state="done"]`).waitFor();
      }
      // The list refreshes: the imported bot is marked and can't be selected again.
      await slow.getByTestId('imported-badge').waitFor();
      assert.equal(await slow.getByTestId('coze-bot-checkbox').isDisabled(), true);
      await snapshot(page, 'import-done');
      await dialog.getByTestId('import-close').click();

      // The console lists them as Coze agents with avatars served from our own storage.
      for (const name of [BOTS.echo.name, BOTS.slow.name]) {
        const row = rowNamed(page, name);
        await row.waitFor();
        assert.equal((await row.getByTestId('provider-badge').textContent())?.trim(), 'Coze');
        assert.match((await row.getByTestId('agent-avatar-img').getAttribute('src')) ?? '', /^\/uploads\//);
      }

      // A Coze agent's prompt is read-only; its bot id is shown; Sync pulls it again from Coze.
      await rowNamed(page, BOTS.echo.name).getByTestId('edit-agent').click();
      const form = page.getByTestId('agent-form');
      await form.getByTestId('coze-prompt-note').waitFor();
      assert.equal(await form.getByTestId('agent-form-prompt').getAttribute('readonly'), '');
      assert.equal((await form.getByTestId('coze-bot-id').textContent())?.trim(), BOTS.echo.id);
      await form.getByTestId('sync-coze').click();
      await form.getByTestId('sync-result').filter({ hasText: 'Synced from Coze' }).waitFor();
      await snapshot(page, 'coze-edit');
      await page.getByTestId('agent-dialog').getByRole('button', { name: 'Cancel' }).click();

      // Users see the imported agent with its downloaded avatar, which loads.
      await page.getByTestId('nav-agents').click();
      const card = cardNamed(page, BOTS.echo.name);
      const avatar = card.getByTestId('agent-avatar-img');
      await avatar.waitFor();
      assert.match((await avatar.getAttribute('src')) ?? '', /^\/uploads\//);
      await page.waitForFunction(
        (id) => {
          const img = document.querySelector<HTMLImageElement>(`[data-agent-id="${id}"] img`);
          return img !== null && img.complete && img.naturalWidth > 0;
        },
        await card.getAttribute('data-agent-id'),
      );
      await snapshot(page, 'agents-with-coze');

      // Two turns with the Echo bot; its follow-up questions become clickable chips.
      await card.click();
      const input = page.getByTestId('chat-input');
      await input.fill('first message');
      await input.press('Enter');
      await completedAnswer(page, 'Turn 1: you said "first message"').waitFor();
      const chips = page.getByTestId('suggestion-chip');
      await chips.first().waitFor();
      assert.equal(await chips.count(), 2);
      const followUp = ((await chips.first().textContent()) ?? '').trim();
      await chips.first().click();
      await completedAnswer(page, `Turn 2: you said "${followUp}"`).waitFor();
      await chips.first().waitFor();
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
      await snapshot(page, 'coze-chat');

      // Stop on the slow bot keeps what arrived and marks it stopped.
      await page.getByTestId('nav-agents').click();
      await cardNamed(page, BOTS.slow.name).click();
      await input.fill('take your time');
      await input.press('Enter');
      const streaming = page.locator('[data-testid="message-assistant"][data-status="streaming"] [data-testid="message-content"]');
      await streaming.waitFor();
      await page.getByTestId('chat-stop').click();
      const canceled = page.locator('[data-testid="message-assistant"][data-status="canceled"]');
      await canceled.getByTestId('message-canceled').waitFor();
      assert.ok(((await canceled.getByTestId('message-content').textContent()) ?? '').trim().length > 0, 'the partial answer stays');
      await page.getByTestId('chat-send').waitFor();
    });
  });

  test('a bot that runs a plugin first shows a neutral "Working…" meanwhile, then its answer', async () => {
    const { baseUrl, admin } = platform();
    const post = async (route: string, body: unknown, token?: string) => {
      const res = await fetch(`${baseUrl}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      assert.ok(res.ok, `${route}: ${res.status}`);
      return res.json();
    };
    const { token } = await post('/api/auth/login', admin);
    await post('/console/api/ai-agent/import/coze', { cozeBotId: BOTS.newsDigest.id }, token);

    await withPage(async (page) => {
      await signIn(page, admin);
      await cardNamed(page, BOTS.newsDigest.name).click();
      const input = page.getByTestId('chat-input');
      await input.fill("Today's tech digest, please");
      await input.press('Enter');
      // The bot searches the news (a plugin call of about a second) before it writes.
      const working = page.locator('[data-testid="message-assistant"][data-status="streaming"] [data-testid="message-working"]');
      await working.waitFor();
      assert.match((await working.textContent()) ?? '', /Working…/);
      await snapshot(page, 'coze-working');
      const answer = completedAnswer(page, 'Your digest');
      await answer.waitFor();
      assert.equal(await answer.getByTestId('message-working').count(), 0, 'the status goes once the answer flows');
      assert.ok(!((await answer.textContent()) ?? '').includes('news_search'), 'the plugin call itself is never shown');
    });
  });

  test('custom variables set in the console reach the Coze bot with every chat', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.getByTestId('console-link').click();
      await rowNamed(page, BOTS.echo.name).getByTestId('edit-agent').click();
      const form = page.getByTestId('agent-form');
      await form.getByTestId('agent-form-variables').fill('missing-equals');
      await form.getByTestId('agent-form-save').click();
      await form.getByTestId('agent-form-error').filter({ hasText: 'name=value' }).waitFor();
      await form.getByTestId('agent-form-variables').fill('city=Paris\nmood = sunny');
      const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200);
      await form.getByTestId('agent-form-save').click();
      await saved;

      await page.getByTestId('nav-agents').click();
      await cardNamed(page, BOTS.echo.name).click();
      const input = page.getByTestId('chat-input');
      await input.fill('Where am I?');
      await input.press('Enter');
      await completedAnswer(page, '[vars: city=Paris,mood=sunny]').waitFor();
    });
  });
});
