// The `/v3/chat` event stream: its typed events, and the reader that hands a response body's events
// to a callback as they arrive. Bytes are decoded with a StringDecoder (which holds a character split
// between chunks, and costs a third of a streaming TextDecoder per chunk) and framed by
// eventsource-parser, so nothing depends on where TCP splits the bytes (mid-line, mid-event, mid-UTF-8
// character). Events are pushed, not pulled through an async iterator: a relayed delta then costs one
// call, not the promises and frames of a chain of generators (docs/performance.md).
//
// Ending rules (docs/coze-openapi.md §4.4):
// - the event that ends the chat is handed out last: `done` (data `"[DONE]"` or bare `[DONE]`),
//   `conversation.chat.completed` or `requires_action` (the rest of the body, at most `done`, then
//   flows away so that its keep-alive connection serves the next chat), `conversation.chat.failed` or
//   `error` (handed out as typed events, which the consumer maps to its own failure; the rest of the
//   body is discarded). The reading resolves once the consumer has handled it;
// - a body that ends (or breaks) before any of them rejects with CozeApiError code -3
//   (StreamEndedEarly) — never a silent end;
// - Coze silent for longer than `idleTimeoutMs` rejects with CozeApiError code -2 (Timeout, not
//   retryable); time the consumer is behind does not count;
// - an event (or a line without end) longer than `maxEventChars` rejects with CozeApiError code -6
//   (EventTooLarge): its bytes are never held whole;
// - an aborted `signal` destroys the body at once and rejects with the signal's reason (a
//   DOMException named AbortError unless the caller aborted with its own reason; see isAbortError());
//   not one more event is handed out, even one already read;
// - a consumer that throws, or whose promise rejects, ends the reading with that error.
// Whatever ends the reading other than a completed chat destroys the body and its connection.
import { finished, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
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

/** The events that end a chat: the last a reading hands out. */
const CHAT_ENDS = new Set<string>([
  CozeChatEventType.Done,
  CozeChatEventType.ChatCompleted,
  CozeChatEventType.ChatRequiresAction,
  CozeChatEventType.ChatFailed,
  CozeChatEventType.Error,
]);

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

/**
 * Takes one event. A promise back means the consumer is behind: the next event waits for it, and the
 * body is paused meanwhile (TCP then slows Coze down). A throw or a rejection ends the reading with it.
 */
export type CozeChatEventHandler = (event: CozeChatEvent) => Promise<void> | void;

/** Longest wait for the rest of a finished chat's body, so that its connection can serve the next chat. */
const DRAIN_MS = 5_000;
/** An event carries at most one message, whose content is at most the whole answer. */
export const DEFAULT_MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * Reads a `/v3/chat` SSE body, handing each event to `onEvent` as its bytes arrive (rules at the top
 * of this file). Resolves once the event that ends the chat was handled.
 */
export function readCozeChatStream(body: Readable, onEvent: CozeChatEventHandler, options: ReadChatStreamOptions = {}): Promise<void> {
  const { idleTimeoutMs = 0, maxEventChars = DEFAULT_MAX_EVENT_CHARS, signal } = options;
  const logId = options.logId ?? null;
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

  return new Promise<void>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    // Complete events not handed out yet: those of the chunk being read, or all that wait for a consumer that is behind.
    const pending: EventSourceMessage[] = [];
    // The parser holds an event's lines until its blank line: past the limit it drops them, and the
    // body goes too (a bad field or retry value is nothing to stop for).
    let tooLarge = false;
    const parser = createParser({
      onEvent: (message) => pending.push(message),
      onError: (error) => {
        if (error.type !== 'max-buffer-size-exceeded') return;
        tooLarge = true;
        body.destroy();
      },
      maxBufferSize: maxEventChars,
    });
    let bodyEnded = false;
    let broken: unknown = null;
    /** An event that only the end of the body completed (it lacked its blank line): if broken, it was cut. */
    let endedEvent: EventSourceMessage | undefined;
    /** The consumer is behind: set while the promise its handler gave back is pending. */
    let behind = false;
    let settled = false;

    // Whatever ends the reading lets go of the body: a chat that is over leaves it to flow to its end
    // (at most `done`; its keep-alive connection then serves the next chat), anything else destroys it.
    const letGo = (chatOver: boolean) => {
      settled = true;
      if (idleTimer) clearTimeout(idleTimer);
      signal?.removeEventListener('abort', onAbort);
      body.off('data', onData).off('end', onEnd).off('close', onClose); // `onError` stays: a late error must not go unhandled
      if (chatOver) drain(body);
      else body.destroy();
    };
    const fail = (error: unknown) => {
      if (settled) return;
      letGo(false);
      reject(error);
    };

    const nextEvent = (): CozeChatEvent => {
      const message = pending.shift()!;
      try {
        return toCozeChatEvent(message, logId);
      } catch (err) {
        throw message === endedEvent ? ended('the stream ended inside an event', err) : err;
      }
    };
    // Hands out the complete events, in order, until the consumer falls behind; then, with none left,
    // sees whether the body's end, break or oversize event ends the reading.
    const handOut = () => {
      while (pending.length > 0 && !behind && !settled) {
        if (signal?.aborted) return fail(signal.reason); // not one more event after an abort, even a buffered one
        let event: CozeChatEvent;
        let handled: Promise<void> | void;
        try {
          event = nextEvent();
          handled = onEvent(event);
        } catch (err) {
          return fail(err);
        }
        if (CHAT_ENDS.has(event.event)) {
          letGo(event.event !== CozeChatEventType.ChatFailed && event.event !== CozeChatEventType.Error);
          return resolve(handled); // once the consumer has handled it
        }
        if (handled) waitFor(handled);
      }
      if (settled || behind || pending.length > 0) return;
      if (tooLarge) fail(eventTooLarge());
      else if (bodyEnded) fail(ended('the stream ended before the chat completed'));
      else if (broken) fail(ended('the connection broke mid-stream', broken));
    };
    const waitFor = (handled: Promise<void>) => {
      behind = true;
      body.pause();
      handled.then(() => {
        behind = false;
        handOut();
        if (behind || settled) return;
        idleTimer?.refresh();
        body.resume();
      }, fail);
    };

    const onData = (chunk: Buffer) => {
      if (tooLarge) return; // bytes already read with the chunk that crossed the limit
      parser.feed(decoder.write(chunk));
      idleTimer?.refresh();
      handOut();
    };
    const onEnd = () => {
      bodyEnded = true;
      if (!tooLarge) {
        const complete = pending.length;
        parser.feed(`${decoder.end()}\n\n`); // a last event the server did not close with a blank line
        if (pending.length > complete) endedEvent = pending.at(-1);
      }
      handOut();
    };
    const onError = (err: unknown) => {
      broken = err;
      handOut();
    };
    // Destroyed (oversize event) or cut before its end.
    const onClose = () => {
      if (!bodyEnded) broken ??= new Error('the body closed before its end');
      handOut();
    };
    const onAbort = () => fail(signal!.reason);
    // One re-armed timer for the whole stream.
    const idleTimer: NodeJS.Timeout | null =
      idleTimeoutMs > 0 ? setTimeout(() => (behind ? idleTimer!.refresh() : fail(timedOut())), idleTimeoutMs) : null;

    if (signal?.aborted) return fail(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
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
