// The realistic Coze stream of the wire facts, replayed byte for byte through a local HTTP server:
// whether it leaves in one write or one byte per write, the client hands out the same typed events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REALISTIC_STREAM } from '@agentport/sandbox';
import { CozeClient } from '../src/coze/openapi/client.js';
import type { CozeChatEvent } from '../src/coze/openapi/stream.js';
import { collect, startLocalServer, testConfig, writeByteByByte } from './coze-client-support.js';

async function replay(mode: 'one-write' | 'byte-by-byte'): Promise<CozeChatEvent[]> {
  const bytes = Buffer.from(REALISTIC_STREAM, 'utf8');
  const server = await startLocalServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-tt-logid': 'REPLAY' });
    res.flushHeaders();
    if (mode === 'one-write') res.write(bytes);
    else await writeByteByByte(res, bytes);
    res.end();
  });
  try {
    const client = new CozeClient(testConfig(server.url));
    return await collect((on) =>
      client.streamChat(
        { botId: '7441780437695086628', userId: 'u1', conversationId: '7441951200360120346', message: 'What day is it?' },
        on,
      ),
    );
  } finally {
    await server.close();
  }
}

describe('REALISTIC_STREAM replay', () => {
  test('one write and 1-byte writes give the identical, fully typed event sequence', async () => {
    const whole = await replay('one-write');
    const trickled = await replay('byte-by-byte');
    assert.deepEqual(trickled, whole);

    assert.deepEqual(
      whole.map((e) => (e.event === 'conversation.message.completed' ? `${e.event}:${e.data.type}` : e.event)),
      [
        'conversation.chat.created',
        'conversation.chat.in_progress',
        'conversation.message.delta',
        'conversation.message.delta',
        'conversation.message.completed:answer',
        'conversation.message.completed:verbose',
        'conversation.message.completed:follow_up',
        'conversation.chat.completed',
      ],
    );
    const [created, , delta1, delta2, answer, verbose, followUp, completed] = whole;
    assert.ok(created?.event === 'conversation.chat.created');
    assert.equal(created.data.id, '7441982054331547711');
    assert.equal(created.data.conversation_id, '7441951200360120346');
    assert.equal(created.data.status, 'created');
    assert.ok(delta1?.event === 'conversation.message.delta' && delta2?.event === 'conversation.message.delta');
    assert.equal(delta1.data.content + delta2.data.content, 'Today is Wednesday.');
    assert.equal(delta1.data.chat_id, '7441982054331547711');
    assert.ok(answer?.event === 'conversation.message.completed');
    assert.equal(answer.data.content, 'Today is Wednesday.');
    assert.equal(answer.data.created_at, 1732721481);
    assert.ok(verbose?.event === 'conversation.message.completed');
    assert.equal(JSON.parse(verbose.data.content).msg_type, 'generate_answer_finish');
    assert.ok(followUp?.event === 'conversation.message.completed');
    assert.equal(followUp.data.content, 'Is Wednesday special?');
    assert.ok(completed?.event === 'conversation.chat.completed');
    assert.deepEqual(completed.data.usage, { token_count: 62, output_count: 3, input_count: 59 });
    assert.deepEqual(completed.data.last_error, { code: 0, msg: '' });
  });
});
