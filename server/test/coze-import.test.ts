import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { AVATAR_DOWNLOAD_FAILED } from '../src/coze/import.js';
import { agents } from '../src/db/schema.js';
import { databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'import Coze agents', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
      });
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const admin = (method: string, path: string, body?: unknown) => p.api(method, path, { token: p.adminToken, body });
    const importBot = (cozeBotId: string, extra: Record<string, unknown> = {}) =>
      admin('POST', '/console/api/ai-agent/import/coze', { cozeBotId, ...extra });

    test("lists the space's published bots with paging, search and import state", async () => {
      const res = await admin('GET', '/console/api/ai-agent/coze/list?page=1&pageSize=2');
      assert.equal(res.status, 200);
      const page1 = await res.json();
      assert.equal(page1.items.length, 2);
      assert.ok(page1.total > 2);
      const bot = page1.items[0];
      assert.match(bot.botId, /^\d+$/);
      assert.ok(bot.name && bot.iconUrl.startsWith(sandbox.url));
      assert.equal(bot.imported, false);
      assert.equal(bot.agentId, null);
      const page2 = await (await admin('GET', '/console/api/ai-agent/coze/list?page=2&pageSize=2')).json();
      assert.notEqual(page2.items[0].botId, bot.botId);
      // Search matches name or description, case-insensitively.
      const found = await (await admin('GET', `/console/api/ai-agent/coze/list?keyword=${encodeURIComponent('TRAVEL PLANNER')}`)).json();
      assert.deepEqual(
        found.items.map((b: any) => b.botId),
        [BOTS.travel.id],
      );
      const byDescription = await (
        await admin('GET', '/console/api/ai-agent/coze/list?keyword=avatar%20url%20answers%20http%20500')
      ).json();
      assert.deepEqual(
        byDescription.items.map((b: any) => b.botId),
        [BOTS.brokenIcon.id],
      );
    });

    test('imports a bot as a Coze agent with its onboarding and a locally stored avatar', async () => {
      const res = await importBot(BOTS.echo.id);
      assert.equal(res.status, 201);
      const text = await res.text();
      assert.ok(!text.includes(sandbox.token), 'the Coze token never appears in a response');
      const { agent, avatarError } = JSON.parse(text);
      assert.equal(avatarError, undefined);
      assert.equal(agent.provider, 'coze');
      assert.equal(agent.model, 'coze-proxy');
      assert.equal(agent.prompt, '');
      assert.equal(agent.name, BOTS.echo.name);
      assert.equal(agent.thirdPartyIntegration.coze.botId, BOTS.echo.id);
      assert.equal(agent.thirdPartyIntegration.coze.spaceId, sandbox.spaceId);
      const detail = await (
        await fetch(`${sandbox.url}/v1/bots/${BOTS.echo.id}`, { headers: { authorization: `Bearer ${sandbox.token}` } })
      ).json();
      assert.equal(agent.openingStatement, detail.data.onboarding_info.prologue);
      assert.deepEqual(agent.openingQuestions, detail.data.onboarding_info.suggested_questions);

      assert.match(agent.avatar, /^\/uploads\/avatars\/[0-9a-f-]{36}\.png$/);
      const avatar = await fetch(p.url + agent.avatar);
      assert.equal(avatar.status, 200);
      assert.equal(avatar.headers.get('content-type'), 'image/png');
      const original = await fetch(detail.data.icon_url);
      assert.deepEqual(Buffer.from(await avatar.arrayBuffer()), Buffer.from(await original.arrayBuffer()));

      const listed = await (await admin('GET', '/console/api/ai-agent/coze/list?pageSize=100')).json();
      const echo = listed.items.find((b: any) => b.botId === BOTS.echo.id);
      assert.equal(echo.imported, true);
      assert.equal(echo.agentId, agent.id);
    });

    test('a second import of the same bot is 409 with the existing agent, even when two race', async () => {
      const first = await (await importBot(BOTS.multiAnswer.id)).json();
      const again = await importBot(BOTS.multiAnswer.id);
      assert.equal(again.status, 409);
      assert.equal((await again.json()).agentId, first.agent.id);

      const racing = await Promise.all([importBot(BOTS.reasoning.id), importBot(BOTS.reasoning.id), importBot(BOTS.reasoning.id)]);
      assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409]);
      const rows = await p.database.db.select().from(agents);
      assert.equal(rows.filter((a) => a.thirdPartyIntegration?.coze?.botId === BOTS.reasoning.id).length, 1);
    });

    test('name and description can be given at import', async () => {
      const { agent } = await (await importBot(BOTS.internals.id, { name: 'Tool user', description: 'Uses tools' })).json();
      assert.equal(agent.name, 'Tool user');
      assert.equal(agent.description, 'Uses tools');
    });

    test('an avatar that cannot be downloaded never fails the import: no avatar, and one message whatever went wrong', async () => {
      // HTTP 500, an HTML page, over the size limit, an SVG labelled image/png, a redirect to the cloud
      // metadata address: the admin learns no more than that (no probing the inside network by icon URL).
      for (const bot of [BOTS.brokenIcon, BOTS.htmlIcon, BOTS.hugeIcon, BOTS.svgIcon, BOTS.metadataIcon]) {
        const res = await importBot(bot.id);
        assert.equal(res.status, 201, bot.name);
        const { agent, avatarError } = await res.json();
        assert.equal(agent.avatar, null, bot.name);
        assert.equal(avatarError, AVATAR_DOWNLOAD_FAILED, bot.name);
      }
    });

    test('an avatar is kept by what its bytes are, not by the type its server claims', async () => {
      const res = await importBot(BOTS.mislabelledIcon.id); // a PNG served as application/octet-stream
      assert.equal(res.status, 201);
      const { agent, avatarError } = await res.json();
      assert.equal(avatarError, undefined);
      assert.match(agent.avatar, /^\/uploads\/avatars\/[0-9a-f-]{36}\.png$/);
      const avatar = await fetch(p.url + agent.avatar);
      assert.equal(avatar.headers.get('content-type'), 'image/png');
    });

    test('a bot that is not published in the space is a clear 404', async () => {
      const res = await importBot('7499999999999999999');
      assert.equal(res.status, 404);
      assert.match((await res.json()).message, /not among the bots published/);
      const invalid = await importBot('not-a-bot-id');
      assert.equal(invalid.status, 400);
    });

    test('sync refreshes the bot and replaces the avatar file; a bot gone from Coze leaves the agent untouched', async () => {
      const { agent } = await (await importBot(BOTS.slow.id)).json();
      const synced = await admin('POST', `/console/api/ai-agent/${agent.id}/sync`);
      assert.equal(synced.status, 200);
      const after = (await synced.json()).agent;
      assert.notEqual(after.avatar, agent.avatar);
      assert.equal((await fetch(p.url + after.avatar)).status, 200);
      assert.equal((await fetch(p.url + agent.avatar)).status, 404, 'old avatar file removed');
      assert.notEqual(after.thirdPartyIntegration.coze.syncedAt, agent.thirdPartyIntegration.coze.syncedAt);

      await p.database.db
        .update(agents)
        .set({ thirdPartyIntegration: { coze: { ...after.thirdPartyIntegration.coze, botId: '7499999999999999998' } } })
        .where(eq(agents.id, agent.id));
      const gone = await admin('POST', `/console/api/ai-agent/${agent.id}/sync`);
      assert.equal(gone.status, 404);
      assert.match((await gone.json()).message, /no longer exists in Coze/);
      const unchanged = await (await admin('GET', `/console/api/ai-agent/${agent.id}`)).json();
      assert.equal(unchanged.avatar, after.avatar);
      assert.equal(unchanged.name, after.name);
    });

    test('deleting a Coze agent removes its avatar file and never calls Coze', async () => {
      const { agent } = await (await importBot(BOTS.splitBytes.id)).json();
      sandbox.clearRequests();
      assert.equal((await admin('DELETE', `/console/api/ai-agent/${agent.id}`)).status, 204);
      assert.equal((await fetch(p.url + agent.avatar)).status, 404);
      assert.equal(sandbox.requests.length, 0);
    });

    test("a Coze agent's prompt is read-only; its custom variables are editable", async () => {
      const { agent } = await (await importBot(BOTS.errorEvent.id)).json();
      const prompt = await admin('PATCH', `/console/api/ai-agent/${agent.id}`, { prompt: 'new prompt' });
      assert.equal(prompt.status, 400);
      assert.match((await prompt.json()).message, /lives in Coze/);
      const vars = await admin('PATCH', `/console/api/ai-agent/${agent.id}`, { customVariables: { city: 'Paris' } });
      assert.deepEqual((await vars.json()).thirdPartyIntegration.coze.customVariables, { city: 'Paris' });
    });

    test('only admins list and import: 401 anonymous, 403 for users', async () => {
      const { token } = await p.newUser();
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list')).status, 401);
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list', { token })).status, 403);
      assert.equal((await p.api('POST', '/console/api/ai-agent/import/coze', { token, body: { cozeBotId: BOTS.echo.id } })).status, 403);
    });
  });

  describeOn(target, 'Coze misconfigured', () => {
    let sandbox: Sandbox;
    before(async () => {
      sandbox = await startSandbox({ quiet: true });
    });
    after(() => sandbox.close());

    test('no Coze configuration: 503 naming the variables to set', async () => {
      const p = await startTestPlatform(target);
      try {
        const res = await p.api('GET', '/console/api/ai-agent/coze/list', { token: p.adminToken });
        assert.equal(res.status, 503);
        assert.match((await res.json()).message, /COZE_API_TOKEN.*COZE_SPACE_ID/);
      } finally {
        await p.close();
      }
    });

    test('a token Coze rejects (4100): 502 with the mapped message and logid, never the token', async () => {
      const p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: 'pat_wrong_token_123',
        COZE_SPACE_ID: sandbox.spaceId,
      });
      try {
        const res = await p.api('GET', '/console/api/ai-agent/coze/list', { token: p.adminToken });
        assert.equal(res.status, 502);
        const text = await res.text();
        assert.ok(!text.includes('pat_wrong_token_123'));
        const body = JSON.parse(text);
        assert.match(body.message, /credentials|token/i);
        assert.ok(body.logId);
      } finally {
        await p.close();
      }
    });
  });
}
