// The `/v3/chat` event stream: its typed events, and the reader that turns a response body into
// them. Bytes are decoded with a StringDecoder (which holds a character split between chunks, and
// costs a third of a streaming TextDecoder per chunk) and framed by eventsource-parser, so nothing
// depends on where TCP splits the bytes (mid-line, mid-event, mid-UTF-8 character).
//
// Ending rules (docs/coze-openapi.md §4.4):
// - `done` (data `"[DONE]"` or bare `[DONE]`) is yielded and ends the iteration;
// - `conversation.chat.failed` and `error` are YIELDED as typed events — the consumer maps them to
//   its own failure — and end the iteration right after (the rest of the body is discarded);
// - `conversation.chat.completed` / `requires_action` are yielded and reading goes on until `done`;
//   if the body ends after one of them, the iteration ends normally;
// - a body that ends (or breaks) before any terminal event throws CozeApiError code -3
//   (StreamEndedEarly) — never a silent end;
// - silence longer than `idleTimeoutMs` throws CozeApiError code -2 (Timeout, not retryable);
// - an event (or a line without end) longer than `maxEventChars` throws CozeApiError code -6
//   (EventTooLarge): its bytes are never held whole;
// - an aborted `signal` destroys the body at once and throws the signal's reason (a DOMException
//   named AbortError unless the caller aborted with its own reason; see isAbortError()).
// Whatever way the iteration ends — including a consumer's `break` — the body is let go of: left to
// flow to its end once the chat is over (`done`, or a completed chat: its keep-alive connection then
// serves the next chat), destroyed otherwise. A consumer that falls behind pauses the body.
import { finished, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { CozeApiError, CozeTransportCode } from './errors.js';

export const CozeChatEventType = {
  ChatCreated: 'conversation.chat.created',
  ChatInProgress: 'conversation.chat.in_progress',
  ChatCompleted: 'conversation.chat.completed',
  ChatFailed: 'conversation.chat.failed',
  ChatRequiresAction: 'conversation.chat.requires_action',
  MessageDelta: 'conversation.message.delta',
  MessageCompleted: 'conversation.message.completed',
  AudioDelta: 'conversation.audio.delta',
  Error: 'error',
  Done: 'done',
} as const;

export type CozeChatStatus = 'created' | 'in_progress' | 'completed' | 'failed' | 'requires_action' | 'canceled' | (string & {});

export interface CozeUsage {
  token_count: number;
  output_count: number;
  input_count: number;
}

export interface CozeLastError {
  code: number;
  msg: string;
}

export interface CozeToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** A chat (one bot turn); its `id` is the chat_id. */
export interface CozeChat {
  id: string;
  conversation_id: string;
  bot_id: string;
  created_at?: number;
  completed_at?: number;
  failed_at?: number;
  last_error?: CozeLastError;
  status: CozeChatStatus;
  usage?: CozeUsage;
  section_id?: string;
  required_action?: { type: string; submit_tool_outputs?: { tool_calls: CozeToolCall[] } };
  meta_data?: Record<string, string>;
}

/** `answer` and `follow_up` are for the user; the rest is the bot's internals. */
export type CozeMessageType =
  'question' | 'answer' | 'follow_up' | 'verbose' | 'function_call' | 'tool_response' | 'tool_output' | 'knowledge' | (string & {});

export interface CozeMessage {
  id: string;
  conversation_id: string;
  bot_id: string;
  chat_id: string;
  role: 'user' | 'assistant' | (string & {});
  type: CozeMessageType;
  /** A delta carries only the new fragment; `completed` carries the whole text. Always a string. */
  content: string;
  content_type: 'text' | 'object_string' | 'card' | (string & {});
  reasoning_content?: string;
  section_id?: string;
  created_at?: number;
  updated_at?: number;
  meta_data?: Record<string, string>;
}

type ChatEventName =
  | typeof CozeChatEventType.ChatCreated
  | typeof CozeChatEventType.ChatInProgress
  | typeof CozeChatEventType.ChatCompleted
  | typeof CozeChatEventType.ChatFailed
  | typeof CozeChatEventType.ChatRequiresAction;
type MessageEventName =
  typeof CozeChatEventType.MessageDelta | typeof CozeChatEventType.MessageCompleted | typeof CozeChatEventType.AudioDelta;

export type CozeChatEvent =
  | { event: ChatEventName; data: CozeChat }
  | { event: MessageEventName; data: CozeMessage }
  | { event: 'error'; data: CozeLastError }
  | { event: 'done' }
  /** An event name this client does not know (yet): passed through, never fatal. */
  | { event: 'unknown'; name: string; data: unknown };

const CHAT_EVENTS = new Set<string>([
  CozeChatEventType.ChatCreated,
  CozeChatEventType.ChatInProgress,
  CozeChatEventType.ChatCompleted,
  CozeChatEventType.ChatFailed,
  CozeChatEventType.ChatRequiresAction,
]);
const MESSAGE_EVENTS = new Set<string>([CozeChatEventType.MessageDelta, CozeChatEventType.MessageCompleted, CozeChatEventType.AudioDelta]);

/** Events after which a stream may end without `done`. */
const COMPLETE_EVENTS = new Set<string>([CozeChatEventType.ChatCompleted, CozeChatEventType.ChatRequiresAction]);

function isDoneData(data: string): boolean {
  const trimmed = data.trim();
  return trimmed === '[DONE]' || trimmed === '"[DONE]"';
}

/** One SSE message to a typed event. Throws CozeApiError (BadResponse) when a known event's data is not a JSON object. */
export function toCozeChatEvent(message: EventSourceMessage, logId: string | null = null): CozeChatEvent {
  const name = message.event ?? '';
  if (name === CozeChatEventType.Done || (name === '' && isDoneData(message.data))) return { event: 'done' };
  const known = CHAT_EVENTS.has(name) || MESSAGE_EVENTS.has(name) || name === CozeChatEventType.Error;
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch (err) {
    if (!known) return { event: 'unknown', name, data: message.data };
    throw new CozeApiError({
      code: CozeTransportCode.BadResponse,
      cozeMsg: `unparseable data in "${name}" event`,
      logId,
      retryable: false,
      cause: err,
    });
  }
  if (!known) return { event: 'unknown', name, data };
  if (!data || typeof data !== 'object') {
    throw new CozeApiError({
      code: CozeTransportCode.BadResponse,
      cozeMsg: `"${name}" event data is not an object`,
      logId,
      retryable: false,
    });
  }
  const record = data as Record<string, unknown>;
  if (name === CozeChatEventType.Error) {
    const code = typeof record.code === 'number' ? record.code : Number(record.code);
    return {
      event: 'error',
      data: { code: Number.isFinite(code) ? code : 5000, msg: typeof record.msg === 'string' ? record.msg : '' },
    };
  }
  if (MESSAGE_EVENTS.has(name)) {
    if (typeof record.content !== 'string') record.content = ''; // the parsed object is ours to normalise
    return { event: name as MessageEventName, data: record as unknown as CozeMessage };
  }
  return { event: name as ChatEventName, data: record as unknown as CozeChat };
}

export interface ReadChatStreamOptions {
  /** Longest silence between two events; 0 or undefined for none. */
  idleTimeoutMs?: number;
  /** Longest event, or line still without its end, in characters; DEFAULT_MAX_EVENT_CHARS when undefined. */
  maxEventChars?: number;
  signal?: AbortSignal;
  /** The response's `x-tt-logid`, copied into every error. */
  logId?: string | null;
}

/** Longest wait for the rest of a finished chat's body, so that its connection can serve the next chat. */
const DRAIN_MS = 5_000;
/** Parsed events waiting for a slow consumer before the body is paused (TCP then slows Coze down). */
const MAX_PENDING = 32;
/** An event carries at most one message, whose content is at most the whole answer. */
export const DEFAULT_MAX_EVENT_CHARS = 4 * 1024 * 1024;

/** Reads a `/v3/chat` SSE body into typed events (rules at the top of this file). */
export async function* readCozeChatStream(
  body: Readable,
  options: ReadChatStreamOptions = {},
): AsyncGenerator<CozeChatEvent, void, undefined> {
  const { idleTimeoutMs = 0, maxEventChars = DEFAULT_MAX_EVENT_CHARS, signal } = options;
  const logId = options.logId ?? null;
  const decoder = new StringDecoder('utf8');
  const pending: EventSourceMessage[] = [];
  // The parser holds an event's lines until its blank line: past the limit it drops them, and the
  // body goes too (a bad field or retry value is nothing to stop for).
  let tooLarge = false;
  const onParseError = (error: ParseError) => {
    if (error.type !== 'max-buffer-size-exceeded') return;
    tooLarge = true;
    body.destroy();
  };
  const parser = createParser({ onEvent: (message) => pending.push(message), onError: onParseError, maxBufferSize: maxEventChars });
  // Set before the event that ends the chat is handed out: a consumer may stop right there, and then
  // the rest of the body (at most `done`) is drained so that its connection serves the next chat.
  let chatOver = false;
  let bodyEnded = false;
  let broken: unknown = null;
  /** An event that only the end of the body completed (it lacked its blank line): if broken, it was cut. */
  let endedEvent: EventSourceMessage | undefined;

  // The body flows straight into the parser as bytes arrive; the generator waits only when no event
  // is pending, on one promise. An open stream thus holds a few listeners and no per-read machinery.
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const onData = (chunk: Buffer) => {
    if (tooLarge) return; // bytes already read with the chunk that crossed the limit
    parser.feed(decoder.write(chunk));
    idleTimer?.refresh();
    if (pending.length > MAX_PENDING) body.pause();
    wakeUp();
  };
  const onEnd = () => {
    bodyEnded = true;
    if (tooLarge) return;
    const complete = pending.length;
    parser.feed(`${decoder.end()}\n\n`); // a last event the server did not close with a blank line
    if (pending.length > complete) endedEvent = pending.at(-1);
    wakeUp();
  };
  const onError = (err: unknown) => {
    broken = err;
    wakeUp();
  };
  // Destroyed (abort, silence) or cut before its end: the wait must end too.
  const onClose = () => {
    if (!bodyEnded) broken ??= new Error('the body closed before its end');
    wakeUp();
  };

  // An abort or a silence destroys the body, which ends the wait in progress: one listener and one
  // re-armed timer for the whole stream.
  const onAbort = () => {
    body.destroy();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let idle = false;
  const idleTimer =
    idleTimeoutMs > 0
      ? setTimeout(() => {
          idle = true;
          body.destroy();
        }, idleTimeoutMs)
      : null;
  body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);

  const ended = (why: string, cause?: unknown) =>
    new CozeApiError({ code: CozeTransportCode.StreamEndedEarly, cozeMsg: why, logId, retryable: false, cause });
  const eventTooLarge = () =>
    new CozeApiError({
      code: CozeTransportCode.EventTooLarge,
      cozeMsg: `an event exceeded ${maxEventChars} characters`,
      logId,
      retryable: false,
    });
  const timedOut = () =>
    new CozeApiError({ code: CozeTransportCode.Timeout, cozeMsg: `no stream event for ${idleTimeoutMs} ms`, logId, retryable: false });
  const nextEvent = (): CozeChatEvent => {
    const message = pending.shift()!;
    try {
      return toCozeChatEvent(message, logId);
    } catch (err) {
      throw message === endedEvent ? ended('the stream ended inside an event', err) : err;
    }
  };

  try {
    for (;;) {
      // Hand out every complete event before waiting for more bytes.
      while (pending.length > 0) {
        if (signal?.aborted) throw signal.reason; // not one more event after an abort, even a buffered one
        const event = nextEvent();
        if (event.event === 'done' || COMPLETE_EVENTS.has(event.event)) chatOver = true;
        yield event;
        if (event.event === 'done' || event.event === 'error' || event.event === CozeChatEventType.ChatFailed) {
          return;
        }
      }
      if (signal?.aborted) throw signal.reason;
      if (tooLarge) throw eventTooLarge();
      if (idle) throw timedOut();
      if (bodyEnded) {
        if (chatOver) return;
        throw ended('the stream ended before the chat completed');
      }
      if (broken) throw ended('the connection broke mid-stream', broken);
      if (body.isPaused()) body.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    signal?.removeEventListener('abort', onAbort);
    body.off('data', onData).off('end', onEnd).off('close', onClose);
    if (chatOver) drain(body);
    else body.destroy(); // stopped early or failed: drop the body and its connection
  }
}

/**
 * A finished chat's body: let the rest of it (at most `done`) flow away, so its connection goes back
 * to the pool. `onError` stays: a late error must not go unhandled.
 */
function drain(body: Readable): void {
  if (body.readableEnded || body.destroyed) return;
  const timer = setTimeout(() => body.destroy(), DRAIN_MS).unref();
  finished(body, () => clearTimeout(timer));
  body.resume();
}
