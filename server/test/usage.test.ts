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

    /** A user and an agent with names a spreadsheet would take for formulas, and usage on days of January `year` (each test its own). */
    async function seededUsage(year: number) {
      const res = await p.api('POST', '/api/auth/register', {
        body: { email: `csv-${Date.now()}@example.com`, password: 'user-password-1', name: '=HYPERLINK("http://evil.example","click")' },
      });
      const hostile = (await res.json()) as { token: string; user: { id: string; email: string } };
      const other = await p.newUser();
      const agent = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: '+Bot, "the best"', model: 'm' } });
      const agentId = (await agent.json()).id as string;
      const row = (
        userId: string,
        agentId: string,
        monthDay: string,
        messages: number,
        promptTokens: number,
        completionTokens: number,
      ) => ({
        userId,
        agentId,
        day: `${year}-${monthDay}`,
        messages,
        promptTokens,
        completionTokens,
      });
      await p.database.db.insert(usageDaily).values([
        row(hostile.user.id, agentId, '01-01', 2, 100, 10),
        row(hostile.user.id, nativeAgent, '01-03', 1, 40, 4),
        row(other.id, agentId, '01-03', 5, 500, 50),
        row(other.id, agentId, '01-04', 7, 700, 70), // past the period asked for
      ]);
      return { hostile, other, agentId };
    }

    test('the console report: totals per user and per agent over the period, and every day of it', async () => {
      const { hostile, other, agentId } = await seededUsage(2021);
      const res = await p.api('GET', '/console/api/usage?from=2021-01-01&to=2021-01-03', { token: p.adminToken });
      assert.equal(res.status, 200);
      const report = await res.json();
      assert.equal(report.from, '2021-01-01');
      assert.equal(report.to, '2021-01-03');
      assert.deepEqual(report.totals, { messages: 8, promptTokens: 640, completionTokens: 64 });
      assert.deepEqual(
        report.days.map((d: any) => [d.day, d.messages]),
        [
          ['2021-01-01', 2],
          ['2021-01-02', 0],
          ['2021-01-03', 6],
        ],
      );
      assert.deepEqual(
        report.users.map((u: any) => [u.userId, u.messages, u.promptTokens, u.completionTokens]),
        [
          [other.id, 5, 500, 50],
          [hostile.user.id, 3, 140, 14],
        ],
      );
      assert.deepEqual(
        report.agents.map((a: any) => [a.agentId, a.agentName, a.messages]),
        [
          [agentId, '+Bot, "the best"', 7],
          [nativeAgent, 'Native', 1],
        ],
      );

      // A deleted agent's usage stays, without a name.
      await p.api('DELETE', `/console/api/ai-agent/${agentId}`, { token: p.adminToken });
      const after = await (await p.api('GET', '/console/api/usage?from=2021-01-01&to=2021-01-03', { token: p.adminToken })).json();
      assert.deepEqual(after.agents[0], { agentId, agentName: null, messages: 7, promptTokens: 600, completionTokens: 60 });
    });

    test('the CSV: a row per day, user and agent, quoted, with formula-like text kept as text', async () => {
      const { hostile, other, agentId } = await seededUsage(2022);
      const res = await p.api('GET', '/console/api/usage.csv?from=2022-01-01&to=2022-01-03', { token: p.adminToken });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="usage-2022-01-01-to-2022-01-03.csv"');
      const csv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
      const rows = [
        '\uFEFFday,user_email,user_name,agent_id,agent_name,messages,prompt_tokens,completion_tokens',
        `2022-01-01,${hostile.user.email},"'=HYPERLINK(""http://evil.example"",""click"")",${agentId},"'+Bot, ""the best""",2,100,10`,
        `2022-01-03,${hostile.user.email},"'=HYPERLINK(""http://evil.example"",""click"")",${nativeAgent},Native,1,40,4`,
      ];
      const otherRow = `2022-01-03,${(await (await p.api('GET', '/api/auth/me', { token: other.token })).json()).user.email},Test User,${agentId},"'+Bot, ""the best""",5,500,50`;
      // Rows are ordered by day, then email.
      const expected = [...rows];
      expected.splice(hostile.user.email < otherRow.split(',')[1]! ? 3 : 2, 0, otherRow);
      assert.equal(csv, expected.join('\r\n') + '\r\n');
    });

    test('a period is days written YYYY-MM-DD, in order, at most 366 of them: anything else is a clear 400', async () => {
      const ask = (query: string, route = '/console/api/usage') => p.api('GET', `${route}?${query}`, { token: p.adminToken });
      for (const [query, message] of [
        ['from=2025-1-1&to=2025-01-31', /from must be a day written YYYY-MM-DD/],
        ['from=2025-02-30&to=2025-03-31', /from must be a day written YYYY-MM-DD/],
        ['from=2025-01-01&to=yesterday', /to must be a day written YYYY-MM-DD/],
        ['from=2025-02-01&to=2025-01-31', /starts \(2025-02-01\) after it ends \(2025-01-31\)/],
        ['from=2024-01-01&to=2025-01-01', /spans 367 days; choose at most 366/],
      ] as const) {
        for (const route of ['/console/api/usage', '/console/api/usage.csv', '/api/ai-agent/usage/me']) {
          const res = await ask(query, route);
          assert.equal(res.status, 400, `${route}?${query}`);
          const body = await res.json();
          assert.equal(body.code, 'invalid_period');
          assert.match(body.message, message);
        }
      }
      assert.equal((await ask('from=2024-01-02&to=2025-01-01')).status, 200, '366 days');
      const byDefault = await (await ask('')).json();
      assert.equal(byDefault.days.length, 30);
      assert.equal(byDefault.to, today());
    });

    test("a user sees their own usage and no one else's; the console report is for administrators", async () => {
      const { hostile, other } = await seededUsage(2023);
      const own = async (token: string) => (await p.api('GET', '/api/ai-agent/usage/me?from=2023-01-01&to=2023-01-03', { token })).json();
      const mine = await own(hostile.token);
      assert.deepEqual(mine.totals, { messages: 3, promptTokens: 140, completionTokens: 14 });
      assert.equal(mine.agents.length, 2);
      assert.equal('users' in mine, false);
      assert.deepEqual((await own(other.token)).totals, { messages: 5, promptTokens: 500, completionTokens: 50 });
      assert.deepEqual(mine.quota.messagesPerDay, null);
      for (const route of ['/console/api/usage', '/console/api/usage.csv']) {
        assert.equal((await p.api('GET', route, { token: hostile.token })).status, 403);
        assert.equal((await p.api('GET', route)).status, 401);
      }
    });
  });
}
