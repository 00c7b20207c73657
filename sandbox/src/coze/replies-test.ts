// Scripted bots for tests: each reproduces one behaviour of the real stream, deterministically.
import { pieces } from '../text.js';
import { messageJson } from './objects.js';
import type { Reply } from './turn.js';

const GAP_MS = 10;

/** `Turn <n>: you said "<msg>"` (+ ` (previous: "<prev>")` from turn 2, + ` [vars: k=v,…]`). */
export function echoText(userTexts: readonly string[], vars: Record<string, string>): string {
  const n = userTexts.length;
  let text = `Turn ${n}: you said "${userTexts[n - 1] ?? ''}"`;
  if (n >= 2) text += ` (previous: "${userTexts[n - 2]}")`;
  const entries = Object.entries(vars);
  if (entries.length > 0) text += ` [vars: ${entries.map(([k, v]) => `${k}=${v}`).join(',')}]`;
  return text;
}

const echo: Reply = (script, turn) => {
  script.start();
  script.answer(pieces(echoText(turn.userTexts, turn.vars), 2), GAP_MS);
  script.verboseFinish();
  script.followUps([`Say "${turn.text}" again`, 'What did I say first?']);
  script.complete();
};

const multiAnswer: Reply = (script) => {
  script.start();
  script.answer(['First answer: ', 'here is part one.'], GAP_MS);
  script.answer(['Second answer: ', 'and here is part two.'], GAP_MS);
  script.verboseFinish();
  script.followUps(['Is there a part three?']);
  script.complete();
};

/** A text answer, then a card answer (a JSON string for Coze's own card renderer): CARD_PAYLOAD must not reach a user as text. */
const card: Reply = (script) => {
  script.start();
  script.answer(['Here is ', 'the forecast:'], GAP_MS);
  script.cardAnswer({ card_type: 'weather', data: { city: 'CARD_PAYLOAD Hangzhou', temperature: 24 } }, GAP_MS);
  script.verboseFinish();
  script.complete();
};

/** Internal messages interleaved with one answer's deltas: none of INTERNAL_TOOL_PAYLOAD may reach a user. */
const internals: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  answer.delta('Let me check ', GAP_MS);
  answer.delta('the weather tool. ', GAP_MS);
  const call = script.message('function_call', '{"name":"INTERNAL_TOOL_PAYLOAD');
  script.emit('conversation.message.delta', messageJson(call), GAP_MS);
  script.internal('function_call', '{"name":"INTERNAL_TOOL_PAYLOAD get_weather","arguments":{"city":"Hangzhou"}}', GAP_MS, call.id);
  script.internal('tool_response', 'INTERNAL_TOOL_PAYLOAD {"temperature":24,"sky":"sunny"}', GAP_MS);
  answer.delta('The forecast says ', GAP_MS);
  script.internal('tool_output', 'INTERNAL_TOOL_PAYLOAD tool output', GAP_MS);
  script.internal('knowledge', 'INTERNAL_TOOL_PAYLOAD knowledge recall: "Hangzhou is lovely in spring"', GAP_MS);
  script.internal('verbose', JSON.stringify({ msg_type: 'knowledge_recall', data: 'INTERNAL_TOOL_PAYLOAD', from_module: null, from_unit: null }), GAP_MS);
  answer.delta('sunny, 24°C.', GAP_MS);
  answer.complete();
  script.verboseFinish();
  script.followUps(['What about tomorrow?']);
  script.complete();
};

const reasoning: Reply = (script, turn) => {
  script.start();
  const answer = script.beginAnswer();
  for (const thought of ['Let me think. ', `The user said "${turn.text}". `, 'A short, direct answer is best.']) answer.think(thought, GAP_MS);
  for (const piece of ['After thinking: ', `you said "${turn.text}".`]) answer.delta(piece, GAP_MS);
  answer.complete();
  script.verboseFinish();
  script.complete();
};

const slow: Reply = (script) => {
  script.start();
  script.answer(Array.from({ length: 100 }, (_, i) => `Slow chunk ${i + 1}. `), 150);
  script.verboseFinish();
  script.complete();
};

const PARTIAL = ['This answer ', 'will not ', 'finish '];

const failMidStream: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  for (const piece of PARTIAL) answer.delta(piece, GAP_MS);
  script.fail(5000, 'event interval error', GAP_MS);
};

const errorEvent: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  for (const piece of PARTIAL) answer.delta(piece, GAP_MS);
  script.errorEvent(5000, 'internal error: the model stopped responding', GAP_MS);
};

const dropConnection: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  for (const piece of PARTIAL) answer.delta(piece, GAP_MS);
  script.drop(GAP_MS);
};

export const SPLIT_BYTES_ANSWER = '你好，世界 🌍🚀 — café';

const splitBytes: Reply = (script) => {
  script.trickle = true;
  script.start();
  script.answer(['你好，', '世界 🌍', '🚀 — café'], 0);
  script.verboseFinish();
  script.followUps(['再说一遍？']);
  script.complete();
};

export const TEST_REPLIES = {
  echo, multiAnswer, internals, reasoning, slow, failMidStream, errorEvent, dropConnection, splitBytes, card,
} satisfies Record<string, Reply>;
