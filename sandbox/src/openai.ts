// An OpenAI-compatible model for native agents: deterministic answers, triggers in the last user message.
import { randomBytes } from 'node:crypto';
import type { RequestContext } from './context.js';
import { describeBytes } from './files.js';
import { bearer, isRecord, nowSeconds, sendJson } from './http.js';
import { benchAnswer, benchDelta, benchOptions, BENCH_DEFAULTS } from './bench.js';
import { HUGE_ANSWER_DELTAS, HUGE_DELTA, HUGE_LINE_BYTES } from './coze/replies-test.js';
import { estimateTokens } from './coze/script.js';
import { openEventStream, playSteps, playTicked, type Step } from './sse.js';
import { evenPieces, pieces } from './text.js';

const GAP_MS = 20;
const SLOW_GAP_MS = 150;

function openaiError(ctx: RequestContext, status: number, message: string, type: string, code: string | null = null): void {
  sendJson(ctx.res, status, { error: { message, type, param: null, code } });
}

/** A non-empty Bearer key is all it takes; false (after a 401) otherwise. */
export function checkOpenAiAuth(ctx: RequestContext): boolean {
  if (bearer(ctx.req)) return true;
  openaiError(ctx, 401, 'You didn\'t provide an API key. Use "Authorization: Bearer <key>".', 'invalid_request_error', 'invalid_api_key');
  return false;
}

export function listModels(ctx: RequestContext): void {
  sendJson(ctx.res, 200, {
    object: 'list',
    data: [{ id: 'sandbox-model', object: 'model', created: 1732700000, owned_by: 'agentport-sandbox' }],
  });
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

/** What the image_url parts of a message held: "image/png 64x48, 1234 bytes" per data: URL, the URL itself otherwise. */
function imagesOf(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap((part) => {
    if (!isRecord(part) || part.type !== 'image_url' || !isRecord(part.image_url) || typeof part.image_url.url !== 'string') return [];
    const url = part.image_url.url;
    const data = /^data:[^,]*;base64,/.exec(url);
    return [data ? describeBytes(Buffer.from(url.slice(data[0].length), 'base64')) : url];
  });
}

/** `Hello from the sandbox model. You said: "<last>". This is turn <n>.` (+ the system prompt's first 60 chars). */
export function sandboxModelAnswer(userTexts: readonly string[], system: string | undefined): string {
  let text = `Hello from the sandbox model. You said: "${userTexts.at(-1) ?? ''}". This is turn ${userTexts.length}.`;
  if (system !== undefined) text += ` System prompt: "${system.slice(0, 60)}".`;
  return text;
}

/** ` Images: …` for the last user message's images (nothing when it has none). */
function imagesNote(messages: Record<string, unknown>[]): string {
  const images = imagesOf(messages.filter((m) => m.role === 'user').at(-1)?.content);
  return images.length ? ` Images: ${images.join('; ')}.` : '';
}

export async function chatCompletions(ctx: RequestContext): Promise<void> {
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (ctx.malformed || !Array.isArray(body.messages) || body.messages.length === 0) {
    return openaiError(ctx, 400, 'messages must be a non-empty array', 'invalid_request_error');
  }
  const messages = body.messages.filter(isRecord);
  const userTexts = messages.filter((m) => m.role === 'user').map((m) => textOf(m.content));
  const systemMessage = messages.find((m) => m.role === 'system' || m.role === 'developer');
  const last = userTexts.at(-1) ?? '';
  // `[flaky]`: the first answer to this message breaks off as `[fail]` does, the next one is whole.
  const flaky = last.includes('[flaky]') && !ctx.core.flakyFailed.has(last);
  if (flaky) ctx.core.flakyFailed.add(last);
  const fails = last.includes('[fail]') || flaky;
  if (last.includes('[error]')) return sendJson(ctx.res, 500, { error: { message: 'sandbox model failure', type: 'server_error' } });

  // `[bench]` (200 deltas) or `[bench:<deltas>]`, paced by the shared 50 ms bench timer.
  const benchMatch = /\[bench(?::(\d+))?\]/.exec(last);
  const bench = benchMatch ? benchOptions({ bench_deltas: benchMatch[1] ?? String(BENCH_DEFAULTS.deltas) }) : undefined;
  // `[huge]`: the 16 MB answer of the Coze bot hugeAnswer, in its 16 KB deltas, as fast as the reader takes them.
  const huge = last.includes('[huge]');
  const answer = bench
    ? benchAnswer(bench.deltas)
    : huge
      ? HUGE_DELTA.repeat(HUGE_ANSWER_DELTAS)
      : sandboxModelAnswer(userTexts, systemMessage ? textOf(systemMessage.content) : undefined) + imagesNote(messages);
  const reasoning = last.includes('[reason]') ? `The user wrote "${last}". I should greet them and repeat it back.` : undefined;
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = nowSeconds();
  const model = typeof body.model === 'string' ? body.model : 'sandbox-model';
  const promptTokens = estimateTokens(messages.map((m) => textOf(m.content)).join('\n'));
  const completionTokens = estimateTokens(answer + (reasoning ?? ''));
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

  if (body.stream !== true) {
    if (fails) return void ctx.res.destroy();
    const message = { role: 'assistant', content: answer, ...(reasoning ? { reasoning_content: reasoning } : {}) };
    return sendJson(ctx.res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, finish_reason: 'stop' }],
      usage,
    });
  }

  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
  const head = chunk({ role: 'assistant', content: '' });
  const tail =
    chunk({}, 'stop') +
    (includeUsage ? `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n` : '') +
    'data: [DONE]\n\n';

  const abort = new AbortController();
  const out = openEventStream(ctx.res, { contentType: 'text/event-stream; charset=utf-8' });
  ctx.res.on('close', () => abort.abort());

  if (bench) {
    const rendered = [0, 1, 2, 3].map((i) => chunk({ content: benchDelta(i) }));
    const ticker = ctx.core.tickers.get(bench.intervalMs, bench.pacing);
    await playTicked({ head, deltaCount: bench.deltas, delta: (i) => rendered[i % 4]!, tail }, ticker, out, abort.signal);
  } else {
    const slow = last.includes('[slow]');
    const gap = huge ? 0 : slow ? SLOW_GAP_MS : GAP_MS;
    const steps: Step[] = [{ delayMs: 0, bytes: head }];
    for (const piece of reasoning ? pieces(reasoning) : []) steps.push({ delayMs: gap, bytes: chunk({ reasoning_content: piece }) });
    const contentPieces = huge ? new Array<string>(HUGE_ANSWER_DELTAS).fill(HUGE_DELTA) : slow ? evenPieces(answer, 40) : pieces(answer);
    for (const piece of contentPieces) steps.push({ delayMs: gap, bytes: chunk({ content: piece }) });
    if (fails) steps.splice(steps.length - contentPieces.length + 3, Infinity, { delayMs: gap, drop: true });
    else if (last.includes('[huge-line]'))
      steps.splice(steps.length - contentPieces.length + 3, Infinity, ...unendedLine(chunk({ content: '' }), gap));
    else steps.push({ delayMs: gap, bytes: tail });
    if ((await playSteps(steps, out, abort.signal)) === 'dropped') return;
  }
  ctx.res.end();
}

/** A chunk whose `data:` line never ends: 50 MB of content without a newline, then the connection drops. */
function unendedLine(emptyChunk: string, gapMs: number): Step[] {
  const opening = emptyChunk.slice(0, emptyChunk.indexOf('"content":"') + '"content":"'.length);
  const filler = 'x'.repeat(64 * 1024);
  const steps: Step[] = [{ delayMs: gapMs, bytes: opening }];
  for (let sent = 0; sent < HUGE_LINE_BYTES; sent += filler.length) steps.push({ delayMs: 0, bytes: filler });
  steps.push({ delayMs: 0, drop: true });
  return steps;
}
