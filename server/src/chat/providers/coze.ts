// Coze agents: the new message goes to Coze's /v3/chat in the Coze conversation that belongs to this
// platform conversation; Coze's events become neutral events. The bot's logic and memory stay in Coze.
import type { CozeClient, CozeHistoryMessage, CozeObjectItem } from '../../coze/openapi/client.js';
import { CozeApiError, CozeErrorCode, CozeTransportCode, isAbortError, userMessageFor } from '../../coze/openapi/errors.js';
import { CozeChatEventType, type CozeChatEvent, type CozeLastError, type CozeMessage } from '../../coze/openapi/stream.js';
import { historyText, type ChatInput, type ChatProvider, type Emit, type ProviderError, type ProviderEvent } from './types.js';

/** What separates two answer messages of one chat, as a reader would expect between paragraphs. */
const ANSWER_SEPARATOR = '\n\n';
/**
 * Stands in for an answer whose content is not text: a card (content_type `card`) is JSON for Coze's
 * own card renderer, which would read as gibberish here; any other kind is treated the same.
 */
export const CARD_NOTE = '(The bot answered with a Coze card or other rich content, which this chat cannot display.)';
/** The bot's steps a user may wait for without seeing them: shown as a neutral "working" status. */
const WORKING_STEPS = new Set(['function_call', 'tool_response', 'tool_output', 'knowledge']);

export function cozeProvider(client: CozeClient | null): ChatProvider {
  return {
    answer(input, emit) {
      const botId = input.agent.thirdPartyIntegration?.coze?.botId;
      if (!client || !botId) {
        emit({
          type: 'error',
          error: { message: 'Coze is not configured on this server (set COZE_API_TOKEN and COZE_SPACE_ID).', code: 'coze_not_configured' },
        });
        return Promise.resolve();
      }
      return chatWithCoze(client, botId, input, emit);
    },
  };
}

/** After a Stop that came before Coze told the chat's id, how long the stream is read on for it. */
const LATE_CANCEL_MS = 10_000;

async function chatWithCoze(client: CozeClient, botId: string, input: ChatInput, emit: Emit): Promise<void> {
  const { signal } = input;
  // The Coze conversation of this platform conversation. On the first turn there is none yet: Coze
  // issues one for the chat and every event carries it, so no separate create call delays the answer.
  let conversationId = input.conversation.providerConversationId;
  let chatId: string | null = null;
  // A thread Coze does not hold (its turns were edited, or Coze forgot it) continues in a fresh Coze
  // conversation that is handed the turns kept here.
  const keptTurns = async (): Promise<CozeHistoryMessage[]> =>
    (await input.loadHistory()).map((m) => ({ role: m.role, content: historyText(m) })).filter((m) => m.content);
  // Stop: closing our stream is not enough for Coze, which keeps the chat running (and the
  // conversation busy); the chat is canceled too, which needs its id. A Stop that comes before Coze
  // told it leaves the stream to Coze open, unseen, until the id comes (at most LATE_CANCEL_MS).
  const upstream = new AbortController();
  let answerStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (answerStopped = resolve));
  const stop = () => {
    answerStopped();
    if (!conversationId || !chatId) return void setTimeout(() => upstream.abort(signal.reason), LATE_CANCEL_MS).unref();
    client.cancelChat({ conversationId, chatId }).catch(() => {});
    upstream.abort(signal.reason);
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    const message = input.attachments.length ? await withFiles(client, input) : input.message;
    for (let attempt = 0; ; attempt++) {
      const history = conversationId ? undefined : await keptTurns();
      if (signal.aborted) return;
      const translate = new CozeTranslator(emit);
      const reading = client.streamChat(
        {
          botId,
          userId: input.user.id,
          conversationId: conversationId ?? undefined,
          message,
          history,
          customVariables: input.agent.thirdPartyIntegration?.coze?.customVariables,
          signal: upstream.signal,
        },
        (event) => {
          if (event.event === CozeChatEventType.ChatCreated) {
            const issued = event.data.conversation_id !== conversationId;
            ({ id: chatId, conversation_id: conversationId } = event.data);
            if (signal.aborted) return stop(); // the ids a Stop was waiting for
            if (issued) emit({ type: 'provider-conversation', id: conversationId });
            emit({ type: 'provider-metadata', data: { cozeChatId: chatId, cozeConversationId: conversationId } });
          }
          return translate.take(event);
        },
      );
      reading.catch(() => {}); // after a Stop nothing waits for it
      try {
        await Promise.race([reading, stopped]);
        return;
      } catch (error) {
        // Coze no longer knows the stored conversation: start a fresh one, once, before anything streamed.
        const forgotten =
          error instanceof CozeApiError &&
          error.code === CozeErrorCode.NotFound &&
          conversationId !== null &&
          chatId === null &&
          attempt === 0;
        if (!forgotten) throw error;
        conversationId = null;
      }
    }
  } catch (error) {
    if (signal.aborted || isAbortError(error)) return;
    emit({ type: 'error', error: describe(error) });
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** A Coze upload that failed: what the user reads names the file. */
class FileUploadFailed extends Error {
  constructor(
    readonly fileName: string,
    override readonly cause: unknown,
  ) {
    super(`could not upload ${fileName} to Coze`);
  }
}

/**
 * The message as Coze's object_string items: its text, then each file by Coze's id for it. A file is
 * uploaded to Coze (POST /v1/files/upload) the first time it is sent to this Coze account, and its id kept on the file.
 * Coze never fetches anything from this platform.
 */
async function withFiles(client: CozeClient, input: ChatInput): Promise<CozeObjectItem[]> {
  const items: CozeObjectItem[] = input.message ? [{ type: 'text', text: input.message }] : [];
  for (const file of input.attachments) {
    let fileId = file.cozeFileId(client.account);
    if (!fileId) {
      try {
        ({ id: fileId } = await client.uploadFile({
          bytes: await file.bytes(),
          name: file.name,
          contentType: file.contentType,
          signal: input.signal,
        }));
      } catch (error) {
        throw isAbortError(error) || input.signal.aborted ? error : new FileUploadFailed(file.name, error);
      }
      await file.rememberCozeFileId(fileId, client.account);
    }
    items.push({ type: file.kind, file_id: fileId });
  }
  return items;
}

/** Turns Coze chat events into neutral events, handed to `emit`; stateful because answers span many deltas. */
export class CozeTranslator {
  private currentAnswerId: string | null = null;
  private readonly answersWithDeltas = new Set<string>();
  private wroteAnswer = false;
  /** Said "working" since the last text: once per stretch of steps. */
  private working = false;
  /** The wait for a client that is behind, from the events of the Coze event being taken. */
  private behind: Promise<void> | undefined;

  constructor(private readonly emit: Emit) {}

  /** Emits what one Coze event means to the user; a promise back when the client is behind. */
  take(event: CozeChatEvent): Promise<void> | undefined {
    this.behind = undefined;
    switch (event.event) {
      case CozeChatEventType.MessageDelta: {
        const message = event.data;
        if (WORKING_STEPS.has(message.type)) this.step();
        if (message.reasoning_content) {
          this.working = false;
          this.out({ type: 'reasoning-delta', text: message.reasoning_content });
        }
        if (message.type === 'answer' && message.content && isText(message)) {
          if (this.currentAnswerId !== message.id) this.answersWithDeltas.add(message.id); // once per answer, not per delta
          this.answerText(message.id, message.content);
        }
        break;
      }
      case CozeChatEventType.MessageCompleted: {
        const message = event.data;
        if (WORKING_STEPS.has(message.type)) this.step();
        if (message.type === 'follow_up' && message.content) this.out({ type: 'suggestion', text: message.content });
        // An answer that arrived whole, without deltas (some bots do that; cards always do).
        if (message.type === 'answer' && message.content && !this.answersWithDeltas.has(message.id)) {
          this.answerText(message.id, isText(message) ? message.content : CARD_NOTE);
        }
        // verbose, function_call, tool_response, tool_output, knowledge: the bot's internals, never shown
        // (a step only as the neutral status above).
        break;
      }
      case CozeChatEventType.ChatCompleted: {
        const usage = event.data.usage;
        if (usage) {
          this.out({
            type: 'usage',
            usage: { prompt_tokens: usage.input_count, completion_tokens: usage.output_count, total_tokens: usage.token_count },
          });
        }
        break;
      }
      case CozeChatEventType.ChatFailed:
        this.out({ type: 'error', error: fromLastError(event.data.last_error) });
        break;
      case CozeChatEventType.ChatRequiresAction:
        this.out({
          type: 'error',
          error: {
            message: 'This bot asked to run a local plugin, which agentport cannot do yet. Remove the local plugin from the bot in Coze.',
            code: 'coze_requires_action',
          },
        });
        break;
      case 'error':
        this.out({ type: 'error', error: fromLastError(event.data) });
        break;
      default:
        break;
    }
    return this.behind;
  }

  /** One neutral event; a client that falls behind on any of a Coze event's is waited for once. */
  private out(event: ProviderEvent): void {
    this.behind = this.emit(event) ?? this.behind;
  }

  private step(): void {
    if (this.working) return;
    this.working = true;
    this.out({ type: 'working' });
  }

  private answerText(messageId: string, text: string): void {
    this.working = false;
    if (this.currentAnswerId !== messageId) {
      if (this.wroteAnswer) this.out({ type: 'text-delta', text: ANSWER_SEPARATOR });
      this.currentAnswerId = messageId;
    }
    this.wroteAnswer = true;
    this.out({ type: 'text-delta', text });
  }
}

/** Plain text (or markdown): what this chat shows as it is. No content_type at all counts as text. */
const isText = (message: CozeMessage) => !message.content_type || message.content_type === 'text';

function fromLastError(lastError: CozeLastError | undefined): ProviderError {
  const code = lastError?.code ?? CozeErrorCode.ServerError;
  return { message: userMessageFor(code), code: `coze_${code}` };
}

function describe(error: unknown): ProviderError {
  if (error instanceof FileUploadFailed) {
    const reason = error.cause instanceof CozeApiError ? error.cause.userMessage : 'Please try again.';
    const code = error.cause instanceof CozeApiError && error.cause.code > 0 ? `coze_upload_${error.cause.code}` : 'coze_upload_failed';
    return { message: `Coze did not take the file ${error.fileName}. ${reason}`, code, cause: error.cause };
  }
  if (error instanceof CozeApiError) {
    if (error.code === CozeTransportCode.EventTooLarge) return { message: error.userMessage, code: 'coze_event_too_large', cause: error };
    return { message: error.userMessage, code: error.code > 0 ? `coze_${error.code}` : 'coze_unreachable', cause: error };
  }
  return { message: 'The Coze bot failed to answer. Please try again.', code: 'coze_error', cause: error };
}
