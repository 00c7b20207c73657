import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { usageDaily } from '../src/db/schema.js';
import { databaseTargets, describeOn, readChatStream, readUntil, startTestPlatform, type TestPlatform } from './support.js';

const today = () => new Date().toISOString().slice(0, 10);

for (const target of databaseTargets()) {
  describeOn(target, 'usage accounting', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let nativeAgent: string;
    let cozeAgent: string;

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        OPENAI_BASE_URL: sandbox.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-sandbox',
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
      });
      const native = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
      nativeAgent = (await native.json()).id;
      const imported = await p.api('POST', '/console/api/ai-agent/import/coze', { token: p.adminToken, body: { cozeBotId: BOTS.echo.id } });
      cozeAgent = (await imported.json()).agent.id;
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const chat = (token: string, agentId: string, content: string, extra: Record<string, unknown> = {}) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: true, ...extra }),
      });
    const usageOf = (userId: string) =>
      p.database.db
        .select({
          agentId: usageDaily.agentId,
          day: usageDaily.day,
          messages: usageDaily.messages,
          promptTokens: usageDaily.promptTokens,
          completionTokens: usageDaily.completionTokens,
        })
        .from(usageDaily)
        .where(eq(usageDaily.userId, userId));

    test("a native answer adds the model's final usage and one message to the user's day with the agent", async () => {
      const user = await p.newUser();
      const first = await readChatStream(await chat(user.token, nativeAgent, 'Hello'));
      const second = await readChatStream(await chat(user.token, nativeAgent, 'Hello again, a longer message this time'));
      assert.ok(first.final.usage.prompt_tokens > 0 && second.final.usage.completion_tokens > 0);
      assert.deepEqual(await usageOf(user.id), [
        {
          agentId: nativeAgent,
          day: today(),
          messages: 2,
          promptTokens: first.final.usage.prompt_tokens + second.final.usage.prompt_tokens,
          completionTokens: first.final.usage.completion_tokens + second.final.usage.completion_tokens,
        },
      ]);
    });

    test("a Coze answer adds chat.completed's usage, apart from the user's other agents", async () => {
      const user = await p.newUser();
      const coze = await readChatStream(await chat(user.token, cozeAgent, 'Echo this'));
      const native = await readChatStream(await chat(user.token, nativeAgent, 'And this'));
      assert.ok(coze.final.usage.prompt_tokens > 0, "the sandbox's chat.completed reports tokens");
      const rows = await usageOf(user.id);
      assert.deepEqual(
        rows.sort((a, b) => (a.agentId === cozeAgent ? -1 : b.agentId === cozeAgent ? 1 : 0)),
        [
          {
            agentId: cozeAgent,
            day: today(),
            messages: 1,
            promptTokens: coze.final.usage.prompt_tokens,
            completionTokens: coze.final.usage.completion_tokens,
          },
          {
            agentId: nativeAgent,
            day: today(),
            messages: 1,
            promptTokens: native.final.usage.prompt_tokens,
            completionTokens: native.final.usage.completion_tokens,
          },
        ],
      );
    });

    test('a stopped answer counts as a message, with the tokens the upstream reported (none before its end)', async () => {
      const user = await p.newUser();
      const res = await chat(user.token, nativeAgent, 'Stop me [slow]');
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      const stopped = await answering.rest();
      assert.equal(stopped.final.status, 'canceled');
      assert.deepEqual(await usageOf(user.id), [{ agentId: nativeAgent, day: today(), messages: 1, promptTokens: 0, completionTokens: 0 }]);
    });

    test('an answer whose conversation was deleted while it ran still counts (the upstream was asked)', async () => {
      const user = await p.newUser();
      const res = await chat(user.token, nativeAgent, 'Delete me meanwhile [slow]');
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      assert.equal((await p.api('DELETE', `/api/ai-agent/conversations/${conversationId}`, { token: user.token })).status, 204);
      await answering.rest();
      const rows = await usageOf(user.id);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.messages, 1);
    });
  });
}
