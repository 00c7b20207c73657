import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'agents', () => {
    let p: TestPlatform;
    before(async () => {
      p = await startTestPlatform(target);
    });
    after(() => p.close());

    const create = (body: unknown) => p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body });

    test('an admin creates, edits and deletes a native agent', async () => {
      const res = await create({ name: 'Helper', model: 'gpt-x', prompt: 'Be kind', openingQuestions: ['Hi?'] });
      assert.equal(res.status, 201);
      const agent = await res.json();
      assert.equal(agent.provider, 'native');
      assert.equal(agent.thirdPartyIntegration, null);
      assert.deepEqual(agent.openingQuestions, ['Hi?']);

      const patched = await p.api('PATCH', `/console/api/ai-agent/${agent.id}`, {
        token: p.adminToken,
        body: { description: 'Kind helper' },
      });
      assert.equal((await patched.json()).description, 'Kind helper');
      assert.equal((await p.api('GET', `/console/api/ai-agent/${agent.id}`, { token: p.adminToken })).status, 200);
      assert.equal((await p.api('DELETE', `/console/api/ai-agent/${agent.id}`, { token: p.adminToken })).status, 204);
      assert.equal((await p.api('GET', `/console/api/ai-agent/${agent.id}`, { token: p.adminToken })).status, 404);
    });

    test('users see only published agents, without provider, model or prompt', async () => {
      const shown = await (await create({ name: 'Shown', model: 'm', prompt: 'secret prompt' })).json();
      await create({ name: 'Hidden', model: 'm', published: false });
      const { token } = await p.newUser();
      const { items } = await (await p.api('GET', '/api/ai-agent', { token })).json();
      assert.deepEqual(
        items.map((a: { name: string }) => a.name).filter((n: string) => n === 'Shown' || n === 'Hidden'),
        ['Shown'],
      );
      const one = items.find((a: { id: string }) => a.id === shown.id);
      assert.equal(one.prompt, undefined);
      assert.equal(one.provider, undefined);
      assert.equal(one.model, undefined);
    });

    test('bad input gets a clear 4xx: missing fields, unknown id, malformed id', async () => {
      const missing = await create({ name: 'No model' });
      assert.equal(missing.status, 400);
      assert.match((await missing.json()).message, /model/);
      const unknown = await p.api('GET', '/console/api/ai-agent/00000000-0000-4000-8000-000000000000', { token: p.adminToken });
      assert.equal(unknown.status, 404);
      const malformed = await p.api('GET', '/console/api/ai-agent/not-a-uuid', { token: p.adminToken });
      assert.equal(malformed.status, 400);
      const badAvatar = await create({ name: 'X', model: 'm', avatar: 'javascript:alert(1)' });
      assert.equal(badAvatar.status, 400);
    });
  });
}
