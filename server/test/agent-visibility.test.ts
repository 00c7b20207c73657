// Agent visibility: an agent shown only to some roles is listed, served as a model and chatted with by
// those roles alone (and by whoever manages agents); a conversation with an agent hidden since stays
// readable and cannot go on, like one whose agent was unpublished.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { ChatProvider } from '../src/chat/providers/types.js';
import { users } from '../src/db/schema.js';
import type { Permission } from '../src/roles/permissions.js';
import { databaseTargets, describeOn, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

const echo: ChatProvider = {
  async answer({ message }, emit) {
    await emit({ type: 'text-delta', text: `You said: ${message}` });
  },
};

for (const target of databaseTargets()) {
  describeOn(target, 'agent visibility', () => {
    let p: TestPlatform;
    let everyone: string;
    let curatorsOnly: string;
    let plain: { token: string; id: string };
    let curator: { token: string; id: string };
    let manager: { token: string; id: string };

    const admin = (method: string, path: string, body?: unknown) => p.api(method, path, { token: p.adminToken, body });
    const json = async (res: Response | Promise<Response>, status: number) => {
      const response = await res;
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      return body;
    };
    async function userOfRole(key: string, permissions: Permission[]) {
      await json(admin('POST', '/console/api/roles', { key, name: key, permissions }), 201);
      const user = await p.newUser();
      await p.database.db.update(users).set({ role: key }).where(eq(users.id, user.id));
      return user;
    }
    const chat = (token: string, agentId: string, content: string, conversationId?: string) =>
      p.api('POST', '/api/ai-agent/chat/completions', {
        token,
        body: { agentId, messages: [{ role: 'user', content }], stream: true, ...(conversationId ? { conversationId } : {}) },
      });
    const listed = async (token: string) => {
      const agents = (await json(p.api('GET', '/api/ai-agent', { token }), 200)).items.map((a: { id: string }) => a.id);
      const models = (await json(p.api('GET', '/api/ai-agent/models', { token }), 200)).data.map((m: { id: string }) => m.id);
      assert.deepEqual(models, agents, 'the model list is the agent list');
      return agents.filter((id: string) => id === everyone || id === curatorsOnly);
    };

    before(async () => {
      p = await startTestPlatform(target, {}, { providers: { native: echo } });
      plain = await p.newUser();
      curator = await userOfRole('curator', ['coze.list']);
      manager = await userOfRole('agent-manager', ['agents.manage']);
      everyone = (await json(admin('POST', '/console/api/ai-agent', { name: 'For everyone', model: 'echo' }), 201)).id;
      const restricted = await json(
        admin('POST', '/console/api/ai-agent', { name: 'For curators', model: 'echo', visibleTo: ['curator'] }),
        201,
      );
      assert.deepEqual(restricted.visibleTo, ['curator']);
      curatorsOnly = restricted.id;
    });
    after(() => p.close());

    test('the agent list and the model list show an agent to its roles alone, and to whoever manages agents', async () => {
      assert.deepEqual(await listed(plain.token), [everyone]);
      assert.deepEqual((await listed(curator.token)).toSorted(), [everyone, curatorsOnly].toSorted());
      assert.deepEqual((await listed(manager.token)).toSorted(), [everyone, curatorsOnly].toSorted());
      assert.equal((await p.api('GET', `/api/ai-agent/${curatorsOnly}`, { token: plain.token })).status, 404);
      assert.equal((await p.api('GET', `/api/ai-agent/${curatorsOnly}`, { token: curator.token })).status, 200);
      // The console shows who sees each agent; null is everyone.
      const consoleList = (await json(admin('GET', '/console/api/ai-agent'), 200)).items;
      assert.equal(consoleList.find((a: { id: string }) => a.id === everyone).visibleTo, null);
    });

    test('a chat with an agent hidden from the role is 404, as with no such agent; its roles and managers chat', async () => {
      const refused = await json(chat(plain.token, curatorsOnly, 'Hello?'), 404);
      assert.equal(refused.code, 'not_found');
      for (const token of [curator.token, manager.token]) {
        const res = await chat(token, curatorsOnly, 'Hello');
        assert.equal(res.status, 200);
        assert.equal((await readChatStream(res)).text, 'You said: Hello');
      }
    });

    test('a conversation whose agent was hidden from the role since stays listed and readable, and cannot go on (403)', async () => {
      const agent = (await json(admin('POST', '/console/api/ai-agent', { name: 'Narrowing', model: 'echo' }), 201)).id;
      const res = await chat(curator.token, agent, 'Before');
      await readChatStream(res);
      const conversationId = res.headers.get('x-conversation-id')!;
      const conversation = async () => json(p.api('GET', `/api/ai-agent/conversations/${conversationId}`, { token: curator.token }), 200);
      assert.equal((await conversation()).chatable, true);

      await json(admin('PATCH', `/console/api/ai-agent/${agent}`, { visibleTo: ['agent-manager'] }), 200);
      assert.equal((await conversation()).chatable, false);
      const { items } = await json(p.api('GET', '/api/ai-agent/conversations', { token: curator.token }), 200);
      assert.equal(items.find((c: { id: string }) => c.id === conversationId).chatable, false);
      await json(p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: curator.token }), 200);
      assert.equal((await json(chat(curator.token, agent, 'After', conversationId), 403)).code, 'agent_unavailable');
      assert.equal((await json(chat(curator.token, agent, 'Anew'), 404)).code, 'not_found');

      // Shown to everyone again, it goes on.
      await json(admin('PATCH', `/console/api/ai-agent/${agent}`, { visibleTo: null }), 200);
      assert.equal((await conversation()).chatable, true);
      const again = await chat(curator.token, agent, 'Again', conversationId);
      assert.equal(again.status, 200);
      await readChatStream(again);
    });

    test('visibleTo names existing roles; a role an agent is shown to cannot be deleted', async () => {
      const unknown = await json(admin('POST', '/console/api/ai-agent', { name: 'X', model: 'echo', visibleTo: ['no-such-role'] }), 400);
      assert.equal(unknown.code, 'unknown_role');
      assert.match(unknown.message, /no-such-role/);
      await json(admin('PATCH', `/console/api/ai-agent/${everyone}`, { visibleTo: ['no-such-role'] }), 400);
      await json(admin('PATCH', `/console/api/ai-agent/${everyone}`, { visibleTo: [] }), 400);
      assert.equal((await json(admin('GET', `/console/api/ai-agent/${everyone}`), 200)).visibleTo, null);

      await json(admin('POST', '/console/api/roles', { key: 'shown', name: 'Shown', permissions: [] }), 201);
      const agent = (await json(admin('POST', '/console/api/ai-agent', { name: 'Shown agent', model: 'echo', visibleTo: ['shown'] }), 201))
        .id;
      const inUse = await json(admin('DELETE', '/console/api/roles/shown'), 409);
      assert.equal(inUse.code, 'role_in_use');
      assert.match(inUse.message, /Shown agent/);
      await json(admin('PATCH', `/console/api/ai-agent/${agent}`, { visibleTo: null }), 200);
      assert.equal((await admin('DELETE', '/console/api/roles/shown')).status, 204);
    });
  });
}
