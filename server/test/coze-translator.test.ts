// The Coze → neutral event conversion, fed arrays of Coze events: no network, no sandbox.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CARD_NOTE, CozeTranslator } from '../src/chat/providers/coze.js';
import type { ProviderEvent } from '../src/chat/providers/types.js';
import type { CozeChatEvent, CozeMessage } from '../src/coze/openapi/stream.js';

const chat = { id: '1', conversation_id: '2', bot_id: '3', status: 'in_progress' };
const message = (id: string, type: string, content: string, extra: Partial<CozeMessage> = {}): CozeMessage => ({
  id,
  conversation_id: '2',
  bot_id: '3',
  chat_id: '1',
  role: 'assistant',
  type,
  content,
  content_type: 'text',
  ...extra,
});
const delta = (m: CozeMessage): CozeChatEvent => ({ event: 'conversation.message.delta', data: m });
const completed = (m: CozeMessage): CozeChatEvent => ({ event: 'conversation.message.completed', data: m });

function translate(events: CozeChatEvent[]): ProviderEvent[] {
  const out: ProviderEvent[] = [];
  const translator = new CozeTranslator((event) => void out.push(event));
  for (const event of events) translator.take(event);
  return out;
}

test('answers, internals, follow-ups and usage become text, suggestions and usage; internals vanish but for a neutral "working"', () => {
  const out = translate([
    { event: 'conversation.chat.created', data: { ...chat, status: 'created' } },
    delta(message('a', 'answer', 'Today is ')),
    delta(message('a', 'answer', 'Wednesday.')),
    completed(message('a', 'answer', 'Today is Wednesday.')),
    completed(message('f', 'function_call', '{"name":"weather"}')),
    completed(message('t', 'tool_response', '{"temp":21}')),
    delta(message('b', 'answer', 'It is sunny.')),
    completed(message('b', 'answer', 'It is sunny.')),
    completed(message('v', 'verbose', '{"msg_type":"generate_answer_finish"}')),
    completed(message('q', 'follow_up', 'Is Wednesday special?')),
    {
      event: 'conversation.chat.completed',
      data: { ...chat, status: 'completed', usage: { token_count: 62, output_count: 3, input_count: 59 } },
    },
    { event: 'done' },
  ]);
  assert.deepEqual(out, [
    { type: 'text-delta', text: 'Today is ' },
    { type: 'text-delta', text: 'Wednesday.' },
    { type: 'working' },
    { type: 'text-delta', text: '\n\n' },
    { type: 'text-delta', text: 'It is sunny.' },
    { type: 'suggestion', text: 'Is Wednesday special?' },
    { type: 'usage', usage: { prompt_tokens: 59, completion_tokens: 3, total_tokens: 62 } },
  ]);
});

test('"working" comes once per stretch of tool or knowledge steps, again after text; verbose and follow-ups are not steps', () => {
  const out = translate([
    delta(message('f', 'function_call', '{"name":"search"')),
    completed(message('f', 'function_call', '{"name":"search","arguments":{}}')),
    completed(message('t', 'tool_response', '{"hits":3}')),
    delta(message('r', 'answer', '', { reasoning_content: 'Three hits.' })),
    completed(message('k', 'knowledge', 'recalled passage')),
    completed(message('o', 'tool_output', 'output')),
    delta(message('a', 'answer', 'Found it.')),
    completed(message('v', 'verbose', '{"msg_type":"generate_answer_finish"}')),
    completed(message('q', 'follow_up', 'More?')),
  ]);
  assert.deepEqual(
    out.map((e) => e.type),
    ['working', 'reasoning-delta', 'working', 'text-delta', 'suggestion'],
  );
});

test('an answer that arrives whole, without deltas, is shown once; reasoning streams apart', () => {
  const out = translate([
    delta(message('r', 'answer', '', { reasoning_content: 'Thinking…' })),
    completed(message('c', 'answer', 'A card answer')),
  ]);
  assert.deepEqual(out, [
    { type: 'reasoning-delta', text: 'Thinking…' },
    { type: 'text-delta', text: 'A card answer' },
  ]);
});

test('chat.failed, an error event and requires_action end the answer with a user-safe error', () => {
  const failed = translate([
    { event: 'conversation.chat.failed', data: { ...chat, status: 'failed', last_error: { code: 5000, msg: 'event interval error' } } },
  ]);
  assert.deepEqual(
    failed.map((e) => e.type === 'error' && e.error.code),
    ['coze_5000'],
  );
  const error = translate([{ event: 'error', data: { code: 4013, msg: 'too many' } }]);
  assert.match((error[0] as Extract<ProviderEvent, { type: 'error' }>).error.message, /rate-limiting/);
  const action = translate([{ event: 'conversation.chat.requires_action', data: { ...chat, status: 'requires_action' } }]);
  assert.match((action[0] as Extract<ProviderEvent, { type: 'error' }>).error.message, /local plugin/);
});

test('an answer sent as a card (whole, content_type "card") becomes a short note, not its JSON; text without a content_type is text', () => {
  const card = JSON.stringify({ card_type: 'weather', data: { city: 'Hangzhou' } });
  const out = translate([
    delta(message('a', 'answer', 'The forecast:')),
    completed(message('a', 'answer', 'The forecast:')),
    completed(message('c', 'answer', card, { content_type: 'card' })),
    delta(message('d', 'answer', 'Anything else?', { content_type: undefined })),
  ]);
  assert.deepEqual(out, [
    { type: 'text-delta', text: 'The forecast:' },
    { type: 'text-delta', text: '\n\n' },
    { type: 'text-delta', text: CARD_NOTE },
    { type: 'text-delta', text: '\n\n' },
    { type: 'text-delta', text: 'Anything else?' },
  ]);
});

test('a client behind on any of the events one Coze event becomes is waited for before the next Coze event', () => {
  const behind = Promise.resolve();
  // Behind on the separator between two answers, not on the text after it.
  const translator = new CozeTranslator((event) => (event.type === 'text-delta' && event.text === '\n\n' ? behind : undefined));
  assert.equal(translator.take(delta(message('a', 'answer', 'One.'))), undefined);
  assert.equal(translator.take(delta(message('b', 'answer', 'Two.'))), behind);
  assert.equal(translator.take(delta(message('b', 'answer', ' More.'))), undefined);
});
