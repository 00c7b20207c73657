// Builds a chat's stream as pre-rendered steps: each event is rendered once, when the script is made.
import { renderEvent, type Step } from '../sse.js';
import { newId } from '../http.js';
import {
  chatJson,
  GENERATE_ANSWER_FINISH,
  messageJson,
  NO_ERROR,
  ZERO_USAGE,
  type ChatRecord,
  type ChatStatus,
  type MessageFields,
  type MessageType,
  type Usage,
} from './objects.js';

/** What the chat looks like once the script has played to its end. */
export interface ChatEnding {
  status: ChatStatus;
  usage: Usage;
  completedAt?: number;
  failedAt?: number;
  lastError: { code: number; msg: string };
}

export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));

export class CozeScript {
  readonly steps: Step[] = [];
  /** Completed messages, in order (the chat's message list; answers go to history). */
  readonly messages: MessageFields[] = [];
  /** Write the stream in 1–3-byte pieces. */
  trickle = false;
  ending: ChatEnding = { status: 'in_progress', usage: ZERO_USAGE, lastError: NO_ERROR };
  private elapsedMs = 0;
  private outputTokens = 0;

  constructor(
    readonly chat: Readonly<ChatRecord>,
    private readonly inputTokens: number,
  ) {}

  /** Seconds since epoch at the current point of the script. */
  now(afterMs = 0): number {
    return this.chat.createdAt + Math.floor((this.elapsedMs + afterMs) / 1000);
  }

  /** Time passing without a step of its own (the bench's ticks). */
  advance(ms: number): void {
    this.elapsedMs += ms;
  }

  emit(event: string, data: unknown, delayMs = 0): void {
    this.elapsedMs += delayMs;
    this.steps.push({ delayMs, bytes: renderEvent(event, data) });
  }

  /** Removes the steps so far and returns their bytes (for ticked playback). */
  takeBytes(): string {
    return this.steps
      .splice(0)
      .map((s) => ('bytes' in s ? s.bytes : ''))
      .join('');
  }

  message(type: MessageType, content: string, extra: Partial<MessageFields> = {}): MessageFields {
    const { id: chatId, conversationId, botId, sectionId } = this.chat;
    return { conversationId, botId, chatId, sectionId, type, content, ...extra, id: extra.id ?? newId() };
  }

  start(): void {
    this.emit('conversation.chat.created', chatJson({ ...this.chat, status: 'created', usage: ZERO_USAGE }));
    this.emit('conversation.chat.in_progress', chatJson({ ...this.chat, status: 'in_progress', usage: ZERO_USAGE }));
  }

  beginAnswer(): AnswerWriter {
    return new AnswerWriter(this);
  }

  countOutput(tokens: number): void {
    this.outputTokens += tokens;
  }

  /** A whole answer: one delta per piece, `gapMs` apart, then its completed message. */
  answer(pieces: readonly string[], gapMs: number): void {
    const writer = this.beginAnswer();
    for (const piece of pieces) writer.delta(piece, gapMs);
    writer.complete();
  }

  /** An answer that is a card: one completed event, no deltas (its content is the card's JSON). */
  cardAnswer(card: unknown, delayMs = 0): void {
    const message = this.message('answer', JSON.stringify(card), { contentType: 'card', createdAt: this.now(delayMs) });
    this.messages.push(message);
    this.emit('conversation.message.completed', messageJson(message), delayMs);
  }

  /** An internal message (never shown to users), as a completed event. */
  internal(type: MessageType, content: string, delayMs = 0, id?: string): void {
    const message = this.message(type, content, { createdAt: this.now(delayMs), ...(id ? { id } : {}) });
    this.messages.push(message);
    this.emit('conversation.message.completed', messageJson(message), delayMs);
  }

  verboseFinish(delayMs = 0): void {
    this.internal('verbose', GENERATE_ANSWER_FINISH, delayMs);
  }

  followUps(questions: readonly string[], delayMs = 0): void {
    questions.forEach((q, i) => this.internal('follow_up', q, i === 0 ? delayMs : 0));
  }

  /** chat.completed then done. */
  complete(delayMs = 0): void {
    const output = this.outputTokens;
    const usage = { token_count: this.inputTokens + output, output_count: output, input_count: this.inputTokens };
    this.ending = { status: 'completed', usage, completedAt: this.now(delayMs), lastError: NO_ERROR };
    this.emit('conversation.chat.completed', chatJson({ ...this.chat, ...this.ending }), delayMs);
    this.emit('done', '[DONE]');
  }

  /** chat.failed carrying last_error; no done. */
  fail(code: number, msg: string, delayMs = 0): void {
    this.ending = { status: 'failed', usage: ZERO_USAGE, failedAt: this.now(delayMs), lastError: { code, msg } };
    this.emit('conversation.chat.failed', chatJson({ ...this.chat, ...this.ending }), delayMs);
  }

  /** An `error` event; no done. */
  errorEvent(code: number, msg: string, delayMs = 0): void {
    this.ending = { status: 'failed', usage: ZERO_USAGE, failedAt: this.now(delayMs), lastError: { code, msg } };
    this.emit('error', { code, msg }, delayMs);
  }

  /** Bytes on the wire as they are, outside any event's framing (a stream broken mid-event). */
  raw(bytes: string, delayMs = 0): void {
    this.steps.push({ delayMs, bytes });
  }

  /** Destroy the connection mid-stream. */
  drop(delayMs = 0): void {
    this.steps.push({ delayMs, drop: true });
  }
}

/** One answer message being streamed: deltas (content or reasoning), then its completed event. */
export class AnswerWriter {
  readonly id: string;
  private content = '';
  private reasoning: string | undefined;

  constructor(private readonly script: CozeScript) {
    this.id = newId();
  }

  private fields(content: string, extra: Partial<MessageFields> = {}): MessageFields {
    return this.script.message('answer', content, { ...extra, id: this.id });
  }

  delta(text: string, gapMs = 0): void {
    this.content += text;
    this.script.countOutput(estimateTokens(text));
    this.script.emit('conversation.message.delta', messageJson(this.fields(text)), gapMs);
  }

  /** A reasoning delta: `content` empty, the fragment in `reasoning_content`. */
  think(text: string, gapMs = 0): void {
    this.reasoning = (this.reasoning ?? '') + text;
    this.script.countOutput(estimateTokens(text));
    this.script.emit('conversation.message.delta', messageJson(this.fields('', { reasoningContent: text })), gapMs);
  }

  complete(delayMs = 0): void {
    const extra: Partial<MessageFields> = { createdAt: this.script.now(delayMs) };
    if (this.reasoning !== undefined) extra.reasoningContent = this.reasoning;
    const message = this.fields(this.content, extra);
    this.script.messages.push(message);
    this.script.emit('conversation.message.completed', messageJson(message), delayMs);
  }
}
