// A user's conversations across agents: the list (newest first, paged by cursor, searched by title),
// one conversation, renaming, privacy, and what unpublishing an agent leaves of its conversations.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { ChatProvider } from '../src/chat/providers/types.js';
import { Conversation, ConversationList } from '../src/chat/schemas.js';
import { conversations } from '../src/db/schema.js';
import { assertMatches, databaseTargets, describeOn, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

const echo: ChatProvider = {
  async answer({ message }, emit) {
    await emit({ type: 'text-delta', text: `You said: ${message}` });
  },
};

for (const target of databaseTargets()) {
  describeOn(target, 'conversations', () => {
    let p: TestPlatform;
    let helper: { id: string; name: string };
    let writer: { id: string; name: string };

    before(async () => {
      p = await startTestPlatform(target, {}, { providers: { native: echo } });
      const create = async (name: string, avatar: string | null) => {
        const res = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name, model: 'echo', avatar } });
        assert.equal(res.status, 201);
        return { id: (await res.json()).id as string, name };
      };
      helper = await create('Helper', 'https://example.com/helper.png');
      writer = await create('Writer', null);
    });
    after(async () => {
      await p.close();
    });

    const chat = (token: string, agentId: string, content: string, conversationId?: string) =>
      p.api('POST', '/api/ai-agent/chat/completions', {
        token,
        body: { agentId, messages: [{ role: 'user', content }], stream: true, ...(conversationId ? { conversationId } : {}) },
      });
    /** A conversation started by chatting; its id. */
    const started = async (token: string, agentId: string, content: string) => {
      const res = await chat(token, agentId, content);
      assert.equal(res.status, 200);
      await readChatStream(res);
      return res.headers.get('x-conversation-id')!;
    };
    const list = async (token: string, query = '') => {
      const res = await p.api('GET', `/api/ai-agent/conversations${query}`, { token });
      assert.equal(res.status, 200, await res.clone().text());
      const body = await res.json();
      assertMatches(ConversationList, body);
      return body as { items: Conversation[]; nextCursor: string | null };
    };
    /** Every page of the list, `limit` at a time. */
    const everyPage = async (token: string, limit: number, extra = '') => {
      const pages: Conversation[][] = [];
      let cursor: string | null = null;
      do {
        const page = await list(token, `?limit=${limit}${extra}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        pages.push(page.items);
        cursor = page.nextCursor;
      } while (cursor && pages.length < 100);
      return pages;
    };
    const errorOf = async (res: Response) => ({ status: res.status, code: (await res.json()).code as string });

    test("one list of the user's conversations with every agent, newest first, each with its agent's name, avatar and whether it can go on", async () => {
      const user = await p.newUser();
      const first = await started(user.token, helper.id, 'Plan my week');
      const second = await started(user.token, writer.id, 'Draft a letter');
      const { items, nextCursor } = await list(user.token);
      assert.equal(nextCursor, null);
      assert.deepEqual(
        items.map((c) => [c.id, c.title, c.agentId, c.agentName, c.agentAvatar, c.chatable]),
        [
          [second, 'Draft a letter', writer.id, 'Writer', null, true],
          [first, 'Plan my week', helper.id, 'Helper', 'https://example.com/helper.png', true],
        ],
      );
      // The agent filter still narrows it to one agent.
      assert.deepEqual(
        (await list(user.token, `?agentId=${helper.id}`)).items.map((c) => c.id),
        [first],
      );
      const one = await p.api('GET', `/api/ai-agent/conversations/${first}`, { token: user.token });
      assert.equal(one.status, 200);
      const body = await one.json();
      assertMatches(Conversation, body);
      assert.deepEqual(body, items[1]);
    });

    test('paging walks the whole list once: no conversation lost or repeated, even when many share a timestamp to the microsecond', async () => {
      const user = await p.newUser();
      // 23 conversations: runs of identical updated_at (ties broken by id), and times one microsecond
      // apart (which a millisecond cursor would lose).
      const base = Date.parse('2026-01-01T00:00:00Z');
      const rows = Array.from({ length: 23 }, (_, i) => ({
        id: randomUUID(),
        userId: user.id,
        agentId: i % 2 ? helper.id : writer.id,
        title: `Conversation ${i}`,
        micros: i < 8 ? 0 : i < 16 ? i : 1000 * i,
      }));
      for (const row of rows) {
        await p.database.db.insert(conversations).values({
          id: row.id,
          userId: row.userId,
          agentId: row.agentId,
          title: row.title,
          updatedAt: sql`${new Date(base).toISOString()}::timestamptz + make_interval(secs => ${row.micros / 1e6})`,
        });
      }
      const expected = [...rows].sort((a, b) => b.micros - a.micros || (a.id < b.id ? 1 : -1)).map((r) => r.id);
      for (const limit of [1, 5, 7, 23, 30]) {
        const pages = await everyPage(user.token, limit);
        assert.deepEqual(
          pages.flat().map((c) => c.id),
          expected,
          `limit ${limit}`,
        );
        assert.ok(
          pages.every((page) => page.length <= limit),
          `limit ${limit}: no page is longer`,
        );
        assert.equal(pages.length, Math.ceil(23 / limit), `limit ${limit}: no empty last page`);
      }
      // Without a limit, a page holds 30.
      for (let i = 0; i < 8; i++)
        await p.database.db.insert(conversations).values({ userId: user.id, agentId: helper.id, title: `More ${i}` });
      const firstPage = await list(user.token);
      assert.equal(firstPage.items.length, 30);
      assert.equal((await list(user.token, `?cursor=${firstPage.nextCursor}`)).items.length, 1);
    });

    test('a bad limit or a cursor the list did not give is a clear 400', async () => {
      const user = await p.newUser();
      await started(user.token, helper.id, 'Something');
      for (const limit of ['0', '101', 'ten']) {
        assert.deepEqual(
          await errorOf(await p.api('GET', `/api/ai-agent/conversations?limit=${limit}`, { token: user.token })),
          { status: 400, code: 'validation_error' },
          `limit=${limit}`,
        );
      }
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      for (const cursor of [
        'not-a-cursor',
        b64('hello'),
        b64(`2026-02-30T00:00:00.000000Z|${randomUUID()}`),
        b64('2026-01-01T00:00:00.000000Z|not-a-uuid'),
        b64(`2026-01-01T00:00:00Z|${randomUUID()}`),
      ]) {
        const res = await p.api('GET', `/api/ai-agent/conversations?cursor=${encodeURIComponent(cursor)}`, { token: user.token });
        assert.deepEqual(await errorOf(res), { status: 400, code: 'invalid_cursor' }, cursor);
      }
    });

    test('search finds titles containing the text, any case, with % and _ as plain characters, across pages', async () => {
      const user = await p.newUser();
      const titles = ['100% sure', '100 percent', 'snake_case names', 'snakeXcase names', 'Back\\slash', 'Recipes for soup', 'SOUP again'];
      const ids: Record<string, string> = {};
      for (const title of titles) ids[title] = await started(user.token, helper.id, title);
      const search = async (q: string) => (await list(user.token, `?q=${encodeURIComponent(q)}`)).items.map((c) => c.title).sort();
      assert.deepEqual(await search('100%'), ['100% sure']);
      assert.deepEqual(await search('%'), ['100% sure']);
      assert.deepEqual(await search('_'), ['snake_case names']);
      assert.deepEqual(await search('\\'), ['Back\\slash']);
      assert.deepEqual(await search('soup'), ['Recipes for soup', 'SOUP again']);
      assert.deepEqual(await search('  names '), ['snake_case names', 'snakeXcase names'].sort(), 'trimmed');
      assert.deepEqual(await search('nothing like it'), []);
      assert.equal((await list(user.token, '?q=')).items.length, titles.length, 'an empty search lists all');
      const paged = await everyPage(user.token, 1, `&q=${encodeURIComponent('names')}`);
      assert.deepEqual(
        paged.flat().map((c) => c.title),
        ['snakeXcase names', 'snake_case names'],
      );

      for (const q of ['a\0b', 'x'.repeat(201)]) {
        const res = await p.api('GET', `/api/ai-agent/conversations?q=${encodeURIComponent(q)}`, { token: user.token });
        assert.deepEqual(await errorOf(res), { status: 400, code: 'invalid_search' });
      }
    });

    test('renaming sets a trimmed title of 1-200 characters without moving the conversation in the list', async () => {
      const user = await p.newUser();
      const older = await started(user.token, helper.id, 'Older');
      await started(user.token, writer.id, 'Newer');
      const before = (await list(user.token)).items;
      const rename = (title: unknown, id = older, token = user.token) =>
        p.api('PATCH', `/api/ai-agent/conversations/${id}`, { token, body: { title } });

      const renamed = await rename('  Trip to Lisbon  ');
      assert.equal(renamed.status, 200);
      const body = await renamed.json();
      assertMatches(Conversation, body);
      assert.equal(body.title, 'Trip to Lisbon');
      assert.equal(body.updatedAt, before[1]!.updatedAt, 'renaming is not a use');
      const after = (await list(user.token)).items;
      assert.deepEqual(
        after.map((c) => [c.id, c.title]),
        [
          [before[0]!.id, 'Newer'],
          [older, 'Trip to Lisbon'],
        ],
      );
      assert.equal((await rename('x'.repeat(200))).status, 200);

      for (const title of ['', '   ', 'x'.repeat(201)]) {
        assert.deepEqual(await errorOf(await rename(title)), { status: 400, code: 'invalid_title' }, JSON.stringify(title));
      }
      for (const title of [42, 'nul\0here']) {
        assert.deepEqual(await errorOf(await rename(title)), { status: 400, code: 'validation_error' }, JSON.stringify(title));
      }
      assert.equal((await list(user.token)).items[1]!.title, 'x'.repeat(200), 'refused renames changed nothing');
    });

    test("another user's conversation is 404 to read, rename or delete, and never listed", async () => {
      const owner = await p.newUser();
      const other = await p.newUser();
      const id = await started(owner.token, helper.id, 'Mine alone');
      for (const [method, path, body] of [
        ['GET', `/api/ai-agent/conversations/${id}`, undefined],
        ['GET', `/api/ai-agent/conversations/${id}/messages`, undefined],
        ['PATCH', `/api/ai-agent/conversations/${id}`, { title: 'Taken' }],
        ['DELETE', `/api/ai-agent/conversations/${id}`, undefined],
      ] as const) {
        assert.deepEqual(
          await errorOf(await p.api(method, path, { token: other.token, body })),
          { status: 404, code: 'not_found' },
          `${method} ${path}`,
        );
      }
      assert.deepEqual((await list(other.token)).items, []);
      assert.deepEqual((await list(other.token, '?q=Mine')).items, []);
      assert.deepEqual(
        (await list(owner.token)).items.map((c) => c.title),
        ['Mine alone'],
        'untouched',
      );
      assert.equal((await p.api('GET', `/api/ai-agent/conversations/${randomUUID()}`, { token: owner.token })).status, 404);

      assert.equal((await p.api('DELETE', `/api/ai-agent/conversations/${id}`, { token: owner.token })).status, 204);
      assert.equal((await p.api('GET', `/api/ai-agent/conversations/${id}`, { token: owner.token })).status, 404);
      assert.deepEqual((await list(owner.token)).items, []);
    });

    test('after its agent is unpublished a conversation stays listed and readable, and a new message to it is 403 agent_unavailable', async () => {
      const user = await p.newUser();
      const agent = await (
        await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Retiring', model: 'echo' } })
      ).json();
      const id = await started(user.token, agent.id, 'Before it retired');
      const setPublished = async (published: boolean) =>
        assert.equal((await p.api('PATCH', `/console/api/ai-agent/${agent.id}`, { token: p.adminToken, body: { published } })).status, 200);
      await setPublished(false);

      const listed = (await list(user.token)).items.find((c) => c.id === id);
      assert.deepEqual([listed?.agentName, listed?.chatable], ['Retiring', false]);
      assert.equal((await (await p.api('GET', `/api/ai-agent/conversations/${id}`, { token: user.token })).json()).chatable, false);
      const read = await p.api('GET', `/api/ai-agent/conversations/${id}/messages`, { token: user.token });
      assert.equal(read.status, 200);
      assert.deepEqual(
        (await read.json()).items.map((m: { content: string }) => m.content),
        ['Before it retired', 'You said: Before it retired'],
      );

      const refused = await chat(user.token, agent.id, 'Still there?', id);
      assert.equal(refused.status, 403);
      const error = await refused.json();
      assert.equal(error.code, 'agent_unavailable');
      assert.match(error.message, /no longer available/);
      const messages = await (await p.api('GET', `/api/ai-agent/conversations/${id}/messages`, { token: user.token })).json();
      assert.equal(messages.items.length, 2, 'the refused message was not stored');
      // A new conversation with it is as if it did not exist, as before.
      assert.deepEqual(await errorOf(await chat(user.token, agent.id, 'Hello?')), { status: 404, code: 'not_found' });

      await setPublished(true);
      assert.equal((await list(user.token)).items.find((c) => c.id === id)?.chatable, true);
      const resumed = await chat(user.token, agent.id, 'Back again', id);
      assert.equal(resumed.status, 200);
      assert.equal((await readChatStream(resumed)).text, 'You said: Back again');
    });
  });
}
