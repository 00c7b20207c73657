// GET /metrics: off unless METRICS=1, only for the scraper's token, and the chat figures match what clients saw.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { readConfig } from '../src/config.js';
import { databaseTargets, describeOn, readChatStream, readUntil, startTestPlatform, type TestPlatform } from './support.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one series in Prometheus's text format, e.g. `agentport_chats_started_total{provider="native"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Deltas the provider's answer put on the wire: every chunk with text or reasoning, not the opening role chunk. */
const relayedDeltas = (chunks: any[]) =>
  chunks.filter((chunk) => {
    const delta = chunk.choices?.[0]?.delta;
    return delta && !delta.role && (delta.content !== undefined || delta.reasoning_content !== undefined);
  }).length;

describe('metrics settings', () => {
  test('off unless METRICS=1 (or true)', () => {
    assert.equal(readConfig({}).metrics, null);
    assert.equal(readConfig({ METRICS: '0', METRICS_TOKEN }).metrics, null);
    assert.deepEqual(readConfig({ METRICS: '1', METRICS_TOKEN }).metrics, { token: METRICS_TOKEN });
    assert.deepEqual(readConfig({ METRICS: 'true', METRICS_TOKEN }).metrics, { token: METRICS_TOKEN });
  });

  test('METRICS=1 refuses to start without a token of at least 16 characters, never repeating it', () => {
    assert.throws(() => readConfig({ METRICS: '1' }), /^Error: METRICS=1 needs METRICS_TOKEN \(at least 16 characters/);
    assert.throws(() => readConfig({ METRICS: '1', METRICS_TOKEN: '' }), /METRICS=1 needs METRICS_TOKEN/);
    assert.throws(
      () => readConfig({ METRICS: '1', METRICS_TOKEN: 'short-secret-15' }),
      (error: Error) =>
        error.message.startsWith('METRICS_TOKEN is 15 characters: it must be at least 16') && !error.message.includes('short-secret-15'),
    );
    assert.throws(
      () => readConfig({ METRICS: '1', METRICS_TOKEN: 'a token with spaces in it' }),
      /METRICS_TOKEN is 25 characters with spaces/,
    );
    assert.equal(readConfig({ METRICS: '1', METRICS_TOKEN: '0123456789abcdef' }).metrics?.token.length, 16);
  });
});

for (const target of databaseTargets()) {
  describeOn(target, 'GET /metrics', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let user: { token: string; id: string };
    const agentOf: Record<'native' | 'coze', string> = { native: '', coze: '' };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        METRICS: '1',
        METRICS_TOKEN,
        OPENAI_BASE_URL: sandbox.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-sandbox',
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
      });
      const native = await p.api('POST', '/console/api/ai-agent', {
        token: p.adminToken,
        body: { name: 'Native', model: 'sandbox-chat', prompt: 'Be brief.' },
      });
      agentOf.native = (await native.json()).id;
      const coze = await p.api('POST', '/console/api/ai-agent/import/coze', { token: p.adminToken, body: { cozeBotId: BOTS.echo.id } });
      agentOf.coze = (await coze.json()).agent.id;
      user = await p.newUser();
    });
    after(async () => {
      await p?.close();
      await sandbox?.close();
    });

    const scrape = async () => {
      const res = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const chat = (provider: 'native' | 'coze', content: string) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ agentId: agentOf[provider], messages: [{ role: 'user', content }], stream: true }),
      });

    test('without the token, or with a wrong one: 401 in the usual error shape', async () => {
      const cases: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token-0123456789abcdef' },
        { authorization: `Bearer ${METRICS_TOKEN}x` },
        { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` },
        { authorization: `Bearer ${user.token}` }, // a user's sign-in token is not the scraper's
        { authorization: METRICS_TOKEN },
      ];
      for (const headers of cases) {
        const res = await fetch(`${p.url}/metrics`, { headers });
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.deepEqual(await res.json(), {
          statusCode: 401,
          error: 'Unauthorized',
          message: 'Metrics are for the scraper: send Authorization: Bearer <METRICS_TOKEN>',
          code: 'unauthorized',
        });
      }
    });

    test('with the token: every series from the start, the process figures, and the pool on PostgreSQL only', async () => {
      const text = await scrape();
      for (const provider of ['native', 'coze']) {
        for (const name of ['agentport_chats_started_total', 'agentport_chats_failed_total', 'agentport_relayed_deltas_total']) {
          assert.equal(sample(text, `${name}{provider="${provider}"}`), 0, `${name} ${provider}`);
        }
        assert.equal(sample(text, `agentport_upstream_first_token_seconds_count{provider="${provider}"}`), 0);
      }
      assert.equal(sample(text, 'agentport_chat_streams_open'), 0);
      assert.ok(sample(text, 'process_cpu_seconds_total')! > 0, "prom-client's default process metrics");
      if (target.name === 'postgres') {
        assert.ok(sample(text, 'agentport_db_pool_connections')! >= 1, 'the pool has served the set-up queries');
        assert.ok(sample(text, 'agentport_db_pool_idle_connections')! >= 0);
        assert.equal(sample(text, 'agentport_db_pool_waiting_queries'), 0);
      } else {
        assert.doesNotMatch(text, /agentport_db_pool/, 'the embedded database has no pool');
      }
    });

    test('one native and one Coze chat: one start each, the deltas the client received, and no stream left open', async () => {
      const native = await readChatStream(await chat('native', 'Hello metrics [reason]'));
      assert.equal(native.final.status, 'completed');
      assert.ok(native.reasoning.length > 0, 'reasoning deltas count too');
      let text = await scrape();
      assert.equal(sample(text, 'agentport_chats_started_total{provider="native"}'), 1);
      assert.equal(sample(text, 'agentport_chats_started_total{provider="coze"}'), 0);
      assert.equal(sample(text, 'agentport_relayed_deltas_total{provider="native"}'), relayedDeltas(native.chunks));
      assert.ok(relayedDeltas(native.chunks) > 5, 'many deltas, not one blob');
      assert.equal(sample(text, 'agentport_chats_failed_total{provider="native"}'), 0);
      assert.equal(
        sample(text, 'agentport_upstream_first_token_seconds_count{provider="native"}'),
        1,
        'time to first token: once per answer',
      );
      assert.ok(sample(text, 'agentport_upstream_first_token_seconds_sum{provider="native"}')! > 0);
      assert.equal(sample(text, 'agentport_chat_streams_open'), 0);

      const coze = await readChatStream(await chat('coze', 'Hello Coze metrics'));
      assert.equal(coze.final.status, 'completed');
      text = await scrape();
      assert.equal(sample(text, 'agentport_chats_started_total{provider="coze"}'), 1);
      assert.equal(sample(text, 'agentport_chats_started_total{provider="native"}'), 1);
      assert.equal(sample(text, 'agentport_relayed_deltas_total{provider="coze"}'), relayedDeltas(coze.chunks));
      assert.ok(relayedDeltas(coze.chunks) > 0);
      assert.equal(sample(text, 'agentport_upstream_first_token_seconds_count{provider="coze"}'), 1);
      assert.equal(sample(text, 'agentport_chat_streams_open'), 0);
    });

    test('an answer that ends with an error counts as failed', async () => {
      const before = sample(await scrape(), 'agentport_chats_failed_total{provider="native"}')!;
      const broken = await readChatStream(await chat('native', 'Break please [fail]'));
      assert.equal(broken.error.code, 'upstream_incomplete');
      const text = await scrape();
      assert.equal(sample(text, 'agentport_chats_failed_total{provider="native"}'), before + 1);
      assert.equal(sample(text, 'agentport_chats_failed_total{provider="coze"}'), 0);
    });

    test('a stream being answered is open until it ends', async () => {
      const res = await chat('native', 'Take your time [slow]');
      const conversationId = res.headers.get('x-conversation-id')!;
      const answering = await readUntil(res, (c) => Boolean(c.choices?.[0]?.delta?.content));
      assert.equal(sample(await scrape(), 'agentport_chat_streams_open'), 1);
      await p.api('POST', `/api/ai-agent/conversations/${conversationId}/stop`, { token: user.token });
      await answering.rest(); // to the end of the answer
      assert.equal(sample(await scrape(), 'agentport_chat_streams_open'), 0);
    });
  });

  describeOn(target, 'GET /metrics when METRICS is off', () => {
    let p: TestPlatform;
    let webDir: string;
    before(async () => {
      // With the web app served, an unknown GET path would get its page: /metrics must be a plain 404 still.
      webDir = mkdtempSync(path.join(tmpdir(), 'agentport-web-'));
      writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>agentport</title>');
      p = await startTestPlatform(target, { WEB_DIST_DIR: webDir, METRICS_TOKEN });
    });
    after(async () => {
      await p?.close();
      rmSync(webDir, { recursive: true, force: true });
    });

    test('no such route: 404, with or without the token', async () => {
      for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }] as Record<string, string>[]) {
        const res = await fetch(`${p.url}/metrics`, { headers });
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), {
          statusCode: 404,
          error: 'Not Found',
          message: 'No route for GET /metrics',
          code: 'not_found',
        });
      }
      assert.equal((await fetch(`${p.url}/some/page`)).status, 200, 'the web app is served, so the 404 is not for want of one');
    });
  });
}
