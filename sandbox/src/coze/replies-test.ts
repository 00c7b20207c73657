// Scripted bots for tests: each reproduces one behaviour of the real stream, deterministically.
import { renderEvent } from '../sse.js';
import { pieces } from '../text.js';
import { messageJson } from './objects.js';
import type { Reply, TurnContext } from './turn.js';

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

/** What the bot received: each file of the last message (type, size, an image's width×height), then its text. */
export function filesText(files: TurnContext['files'], text: string): string {
  const received = files.length
    ? `Received ${files.length} file${files.length > 1 ? 's' : ''}: ${files.map((f) => `${f.type} ${f.name} (${f.description})`).join('; ')}.`
    : 'Received no files.';
  return `${received} Text: "${text}".`;
}

const describeFiles: Reply = (script, turn) => {
  script.start();
  script.answer(pieces(filesText(turn.files, turn.text), 2), GAP_MS);
  script.verboseFinish();
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
  script.internal(
    'verbose',
    JSON.stringify({ msg_type: 'knowledge_recall', data: 'INTERNAL_TOOL_PAYLOAD', from_module: null, from_unit: null }),
    GAP_MS,
  );
  answer.delta('sunny, 24°C.', GAP_MS);
  answer.complete();
  script.verboseFinish();
  script.followUps(['What about tomorrow?']);
  script.complete();
};

const reasoning: Reply = (script, turn) => {
  script.start();
  const answer = script.beginAnswer();
  for (const thought of ['Let me think. ', `The user said "${turn.text}". `, 'A short, direct answer is best.'])
    answer.think(thought, GAP_MS);
  for (const piece of ['After thinking: ', `you said "${turn.text}".`]) answer.delta(piece, GAP_MS);
  answer.complete();
  script.verboseFinish();
  script.complete();
};

const slow: Reply = (script) => {
  script.start();
  script.answer(
    Array.from({ length: 100 }, (_, i) => `Slow chunk ${i + 1}. `),
    150,
  );
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

/** One 16 KB delta of the huge answer: readable text, so a cut shows where it fell. */
export const HUGE_DELTA = 'All work and no play makes a very long answer. '.repeat(350).slice(0, 16 * 1024);
export const HUGE_ANSWER_DELTAS = 1024; // 16 MB, far more than the sockets on the way hold

/** A 16 MB answer in 16 KB deltas, as fast as the reader takes them, then completed as usual. */
const hugeAnswer: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  for (let i = 0; i < HUGE_ANSWER_DELTAS; i++) answer.delta(HUGE_DELTA);
  answer.complete();
  script.verboseFinish();
  script.complete();
};

export const HUGE_LINE_BYTES = 50 * 1024 * 1024;

/** A few deltas, then a delta whose data line never ends: 50 MB of content without a newline, and the connection drops. */
const hugeLine: Reply = (script) => {
  script.start();
  const answer = script.beginAnswer();
  for (const piece of PARTIAL) answer.delta(piece, GAP_MS);
  const marker = 'CONTENT_GOES_ON';
  const opening = renderEvent('conversation.message.delta', messageJson(script.message('answer', marker, { id: answer.id })));
  script.raw(opening.slice(0, opening.indexOf(marker)), GAP_MS);
  const filler = 'x'.repeat(64 * 1024);
  for (let sent = 0; sent < HUGE_LINE_BYTES; sent += filler.length) script.raw(filler);
  script.drop();
};

export const TEST_REPLIES = {
  echo,
  multiAnswer,
  internals,
  reasoning,
  slow,
  failMidStream,
  errorEvent,
  dropConnection,
  splitBytes,
  card,
  hugeAnswer,
  hugeLine,
  describeFiles,
} satisfies Record<string, Reply>;
