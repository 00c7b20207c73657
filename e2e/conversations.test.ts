/// <reference lib="dom" />
// The sidebar's one list of a user's conversations with every agent: avatars, date groups, search,
// rename, delete, and a conversation whose agent was unpublished, open to read only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

describe('conversations across agents', () => {
  const { platform, withPage } = useBrowserSuite();

  /** Calls the API as `token` from the page's context. */
  async function call(page: Page, method: 'GET' | 'POST' | 'PATCH', path: string, token: string, data?: unknown) {
    const res = await page.request.fetch(path, { method, headers: { authorization: `Bearer ${token}` }, data });
    assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
    return res.json();
  }

  /** A new user, an admin token, and agents made for the test (with distinct initials). */
  async function setUp(page: Page, agentNames: string[]) {
    const admin = (await (await page.request.post('/api/auth/login', { data: platform().admin })).json()).token as string;
    const agents: Record<string, string> = {};
    for (const name of agentNames)
      agents[name] = (await call(page, 'POST', '/console/api/ai-agent', admin, { name, model: 'sandbox-model' })).id;
    const user = { email: `reader-${randomBytes(4).toString('hex')}@example.com`, password: 'reader-password-1' };
    const registered = await (await page.request.post('/api/auth/register', { data: { ...user, name: 'Reader' } })).json();
    const chat = async (agentName: string, content: string): Promise<string> =>
      (
        await call(page, 'POST', '/api/ai-agent/chat/completions', registered.token, {
          agentId: agents[agentName],
          messages: [{ role: 'user', content }],
        })
      ).conversation_id;
    return { admin, agents, user, chat };
  }

  const item = (page: Page, id: string) => page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"]`);
  const titles = async (page: Page) => (await page.getByTestId('conversation-title').allTextContents()).map((t) => t.trim());

  test("one list holds the user's conversations with every agent, each with its agent's avatar, grouped by day", async () => {
    await withPage(async (page) => {
      const { agents, user, chat } = await setUp(page, ['Garden Guide', 'Poetry Pal']);
      const garden = await chat('Garden Guide', 'When to plant tulips');
      const poem = await chat('Poetry Pal', 'A haiku about rain');
      await signIn(page, user);
      await page.goto(`/chat/${agents['Garden Guide']}`);

      await item(page, poem).waitFor();
      assert.deepEqual(await titles(page), ['A haiku about rain', 'When to plant tulips'], 'newest first, both agents');
      for (const [id, name, initials] of [
        [garden, 'Garden Guide', 'GG'],
        [poem, 'Poetry Pal', 'PP'],
      ] as const) {
        assert.equal((await item(page, id).getByTestId('conversation-agent').textContent())?.trim(), name);
        assert.equal(await item(page, id).getByTestId('agent-avatar-initials').getAttribute('aria-label'), `${name} avatar`);
        assert.equal(await item(page, id).getByTestId('agent-avatar-initials').textContent(), initials);
      }
      const groups = page.getByTestId('conversation-group');
      assert.deepEqual(await groups.evaluateAll((els) => els.map((el) => el.getAttribute('data-group'))), ['Today']);
      await snapshot(page, 'conversations');

      // Opening the other agent's conversation switches the page to that agent.
      await item(page, poem).getByTestId('open-conversation').click();
      await page.waitForURL(new RegExp(`/chat/${agents['Poetry Pal']}/${poem}$`));
      await page.getByTestId('chat-agent-name').filter({ hasText: 'Poetry Pal' }).waitFor();
      await page.getByTestId('message-user').filter({ hasText: 'A haiku about rain' }).waitFor();
      assert.equal(
        await item(page, poem)
          .getAttribute('class')
          .then((c) => c?.includes('active')),
        true,
      );
    });
  });

  test('the groups follow the days: Yesterday, Previous 7 days, Older', async () => {
    await withPage(async (page) => {
      const { agents, user, chat } = await setUp(page, ['Clock Keeper']);
      await chat('Clock Keeper', 'What day is it');
      await signIn(page, user);
      for (const [days, group] of [
        [1, 'Yesterday'],
        [3, 'Previous 7 days'],
        [10, 'Older'],
      ] as const) {
        // The browser lives `days` later; the conversation was last used now.
        await page.clock.setFixedTime(Date.now() + days * 24 * 60 * 60 * 1000);
        await page.goto(`/chat/${agents['Clock Keeper']}`);
        await page.locator(`[data-testid="conversation-group"][data-group="${group}"]`).getByTestId('conversation-item').waitFor();
        assert.equal(await page.getByTestId('conversation-group').count(), 1, group);
      }
    });
  });

  test('search narrows the list on the server; rename saves with Enter and cancels with Escape; delete asks first', async () => {
    await withPage(async (page) => {
      const { agents, user, chat } = await setUp(page, ['Kitchen Helper', 'Travel Planner']);
      const soup = await chat('Kitchen Helper', 'Soup for 100% of the guests');
      const trip = await chat('Travel Planner', 'A trip to Lisbon');
      await chat('Kitchen Helper', 'Bread without yeast');
      await signIn(page, user);
      await page.goto(`/chat/${agents['Travel Planner']}`);
      await item(page, soup).waitFor();

      // Search: the server answers (with ?q=), and % is a plain character.
      const searched = page.waitForResponse((r) => r.url().includes('/api/ai-agent/conversations?') && r.url().includes('q=100%25'));
      await page.getByTestId('conversation-search').fill('100%');
      await searched;
      await item(page, trip).waitFor({ state: 'detached' });
      assert.deepEqual(await titles(page), ['Soup for 100% of the guests']);
      await page.getByTestId('conversation-search').fill('zebra');
      await page.getByTestId('conversations-empty').waitFor();
      await page.getByTestId('conversation-search').fill('');
      await item(page, trip).waitFor();
      assert.equal((await titles(page)).length, 3);

      // Rename: Enter saves (and it lasts), Escape cancels.
      await item(page, trip).hover();
      await item(page, trip).getByTestId('rename-conversation').click();
      const input = item(page, trip).getByTestId('rename-input');
      await input.fill('  Lisbon in May  ');
      await input.press('Enter');
      await item(page, trip)
        .getByTestId('conversation-title')
        .filter({ hasText: /^Lisbon in May$/ })
        .waitFor();
      await item(page, trip).getByTestId('rename-conversation').click();
      await item(page, trip).getByTestId('rename-input').fill('Not this');
      await item(page, trip).getByTestId('rename-input').press('Escape');
      await item(page, trip).getByTestId('rename-input').waitFor({ state: 'detached' });
      assert.equal((await item(page, trip).getByTestId('conversation-title').textContent())?.trim(), 'Lisbon in May');
      // An empty title is refused with the server's reason, and the field stays open.
      await item(page, trip).getByTestId('rename-conversation').click();
      await item(page, trip).getByTestId('rename-input').fill('   ');
      await item(page, trip).getByTestId('rename-input').press('Enter');
      assert.match((await item(page, trip).getByTestId('rename-error').textContent()) ?? '', /1 to 200 characters/);
      await item(page, trip).getByTestId('rename-input').press('Escape');
      await page.reload();
      await item(page, trip)
        .getByTestId('conversation-title')
        .filter({ hasText: /^Lisbon in May$/ })
        .waitFor();

      // Delete: Cancel keeps it (nothing is sent); confirming deletes it.
      const deletes: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'DELETE') deletes.push(r.url());
      });
      await item(page, soup).hover();
      await item(page, soup).getByTestId('delete-conversation').click();
      const dialog = page.getByTestId('confirm-dialog');
      assert.match((await dialog.textContent()) ?? '', /Soup for 100% of the guests/);
      await dialog.getByTestId('confirm-cancel').click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await item(page, soup).count(), 1);
      assert.deepEqual(deletes, []);
      await item(page, soup).hover();
      await item(page, soup).getByTestId('delete-conversation').click();
      const deleted = page.waitForResponse((r) => r.url().endsWith(`/conversations/${soup}`) && r.request().method() === 'DELETE');
      await dialog.getByTestId('confirm-ok').click();
      assert.equal((await deleted).status(), 204);
      await item(page, soup).waitFor({ state: 'detached' });
      await page.reload();
      await item(page, trip).waitFor();
      assert.equal(await item(page, soup).count(), 0, 'gone for good');
    });
  });

  test('Show more brings the next page, without repeating any conversation', async () => {
    await withPage(async (page) => {
      const { agents, user, chat } = await setUp(page, ['Note Taker']);
      const notes = Array.from({ length: 32 }, (_, i) => `Note ${i + 1}`);
      for (let i = 0; i < notes.length; i += 8) await Promise.all(notes.slice(i, i + 8).map((note) => chat('Note Taker', note)));
      await signIn(page, user);
      await page.goto(`/chat/${agents['Note Taker']}`);
      const more = page.getByTestId('conversations-more');
      await more.waitFor();
      assert.equal(await page.getByTestId('conversation-item').count(), 30, 'a page of 30');
      await more.click();
      await more.waitFor({ state: 'detached' });
      const shown = await titles(page);
      assert.equal(shown.length, 32);
      assert.deepEqual([...shown].sort(), [...notes].sort(), 'every conversation once');
    });
  });

  test('a conversation whose agent was unpublished opens to read, with a note instead of the composer', async () => {
    await withPage(async (page) => {
      const { admin, agents, user, chat } = await setUp(page, ['Retired Robot', 'Active Agent']);
      const retired = await chat('Retired Robot', 'Remember this for me');
      await call(page, 'PATCH', `/console/api/ai-agent/${agents['Retired Robot']}`, admin, { published: false });
      await signIn(page, user);
      await page.goto(`/chat/${agents['Active Agent']}`);
      await item(page, retired).waitFor();
      assert.equal(await item(page, retired).getAttribute('data-chatable'), 'false');
      assert.match((await item(page, retired).textContent()) ?? '', /read-only/);

      await item(page, retired).getByTestId('open-conversation').click();
      const note = page.getByTestId('conversation-read-only');
      await note.waitFor();
      assert.equal(
        (await note.textContent())?.trim(),
        'This agent is no longer available; you can read this conversation but not continue it.',
      );
      await page.getByTestId('chat-agent-name').filter({ hasText: 'Retired Robot' }).waitFor();
      await page.getByTestId('message-user').filter({ hasText: 'Remember this for me' }).waitFor();
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').waitFor();
      assert.equal(await page.getByTestId('chat-input').count(), 0, 'no composer');
      assert.equal(await page.getByTestId('chat-agent-error').count(), 0, 'no error: the conversation is readable');
      await snapshot(page, 'conversation-read-only');

      // The same page, opened directly (a bookmark, a reload), is read-only too.
      await page.reload();
      await note.waitFor();
      assert.equal(await page.getByTestId('chat-input').count(), 0);
    });
  });
});
