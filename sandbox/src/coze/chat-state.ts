// What the sandbox remembers about conversations and chats, and how a chat's end updates it.
import type { SandboxCore } from '../context.js';
import { newId, nowSeconds } from '../http.js';
import type { PlayOutcome } from '../sse.js';
import type { ChatRecord, MessageFields } from './objects.js';
import type { ChatEnding } from './script.js';

export interface StoredMessage {
  role: 'user' | 'assistant';
  type: string;
  content: string;
  contentType: string;
  /** The text a model would read (the text item of an object_string message). */
  text: string;
  /** The files of an object_string message. */
  files: MessageFile[];
}

/** A file item of an object_string message: by the id of an upload, or by URL. */
export type MessageFile = { type: string } & ({ fileId: string } | { fileUrl: string });

export interface Conversation {
  id: string;
  createdAt: number;
  metaData: Record<string, string>;
  sectionId: string;
  botId?: string;
  /** The user_id that first chatted here; another user_id gets 4101. */
  userId?: string;
  /** Context the model sees: completed turns of the current section. */
  history: StoredMessage[];
  /** The chat streaming right now, if any (a second one gets 4016). */
  activeChatId?: string;
}

export interface ChatRun {
  record: ChatRecord;
  conversation: Conversation;
  /** This turn's additional_messages, saved to history if the chat completes. */
  input: StoredMessage[];
  autoSaveHistory: boolean;
  /** Completed messages, available once the chat has ended. */
  messages: MessageFields[];
  abort: AbortController;
  ended: boolean;
}

export function createConversation(
  core: SandboxCore,
  init: { botId?: string; metaData?: Record<string, string>; history?: StoredMessage[] },
): Conversation {
  const id = newId();
  const conversation: Conversation = {
    id,
    createdAt: nowSeconds(),
    metaData: init.metaData ?? {},
    sectionId: id,
    history: init.history ?? [],
    ...(init.botId ? { botId: init.botId } : {}),
  };
  core.conversations.set(id, conversation);
  return conversation;
}

export function conversationJson(c: Conversation): Record<string, unknown> {
  return { id: c.id, created_at: c.createdAt, meta_data: c.metaData, last_section_id: c.sectionId };
}

/** Marks the chat canceled (POST /v3/chat/cancel): its stream stops, its turn is not kept. */
export function cancelChat(run: ChatRun): void {
  run.record.status = 'canceled';
  release(run);
  run.abort.abort();
}

/**
 * Applies how the stream ended. A chat that plays to its end takes the script's ending (completed
 * or failed); a dropped connection is a failure; a client that hangs up first cancels the chat
 * (sandbox choice: the turn is then not kept, like a cancel). Only completed turns join the history.
 */
export function endChat(run: ChatRun, outcome: PlayOutcome, ending: ChatEnding, messages: MessageFields[]): void {
  if (run.ended) return;
  run.ended = true;
  const { record } = run;
  if (record.status !== 'canceled') {
    if (outcome === 'finished') Object.assign(record, ending);
    else if (outcome === 'dropped')
      Object.assign(record, { status: 'failed', failedAt: nowSeconds(), lastError: { code: 5000, msg: 'connection dropped' } });
    else record.status = 'canceled';
  }
  run.messages = messages;
  if (record.status === 'completed' && run.autoSaveHistory) {
    const answers = messages.filter((m) => m.type === 'answer');
    run.conversation.history.push(
      ...run.input,
      ...answers.map((m): StoredMessage => ({
        role: 'assistant',
        type: 'answer',
        content: m.content,
        contentType: 'text',
        text: m.content,
        files: [],
      })),
    );
  }
  release(run);
}

function release(run: ChatRun): void {
  if (run.conversation.activeChatId === run.record.id) delete run.conversation.activeChatId;
}
