import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { benchAnswer, BOTS, startSandbox, type Sandbox } from '../src/index.js';
import { answerText, chat, userMessage } from './helpers.js';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({ quiet: true });
});
after(() => sandbox.close());

const complete = (body: Record<string, unknown>, key = 'sk-test') =>
  fetch(`${sandbox.openaiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'any-model', ...body }),
  });

interface Chunk {
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { total_tokens: number } | null;
}

describe('OpenAI-compatible model', () => {
  test('streams chat.completion.chunk SSE: role first, word deltas, stop, usage, [DONE]', async () => {
    const res = await complete({
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'two' },
      ],
    });
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const chunks = text
      .split('\n\n')
      .filter((b) => b && b !== 'data: [DONE]')
      .map((b) => JSON.parse(b.replace(/^data: /, '')) as Chunk);
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(content, 'Hello from the sandbox model. You said: "two". This is turn 2. System prompt: "You are terse.".');
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
    assert.ok(chunks.at(-1)!.usage!.total_tokens > 0);
  });

  test('a missing key is a 401 and [error] a 500 before streaming', async () => {
    assert.equal((await complete({ messages: [{ role: 'user', content: 'hi' }] }, '')).status, 401);
    const failed = await complete({ stream: true, messages: [{ role: 'user', content: 'boom [error]' }] });
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), { error: { message: 'sandbox model failure', type: 'server_error' } });
  });

  test('[flaky] breaks off the first answer to a message and answers it whole the next time', async () => {
    const ask = () => complete({ stream: true, messages: [{ role: 'user', content: 'once more [flaky]' }] }).then((r) => r.text());
    await assert.rejects(ask()); // the connection drops mid-stream
    const whole = await ask();
    assert.match(whole, /data: \[DONE\]/);
    assert.match(whole, /"finish_reason":"stop"/);
  });
});

describe('bench streams', () => {
  test('concurrent Coze and OpenAI bench streams deliver the exact bench answer', async () => {
    const vars = { bench_deltas: '12', bench_interval_ms: '50' };
    const coze = Array.from({ length: 3 }, (_, i) =>
      chat(sandbox, {
        bot_id: BOTS.bench.id,
        user_id: `bench-${i}`,
        additional_messages: [userMessage('go')],
        custom_variables: vars,
      }).then((r) => r.text()),
    );
    const openai = complete({ stream: true, messages: [{ role: 'user', content: '[bench:12]' }] }).then((r) => r.text());
    for (const text of await Promise.all(coze)) {
      assert.equal(answerText(text), benchAnswer(12));
      assert.ok(text.endsWith('event:done\ndata:"[DONE]"\n\n'));
    }
    const chunks = (await openai)
      .split('\n\n')
      .filter((b) => b.startsWith('data: {'))
      .map((b) => JSON.parse(b.slice(6)) as Chunk);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), benchAnswer(12));
  });
});
