// The one seam between the chat route and the services that answer. A provider turns a new user
// message into provider-neutral events; the route alone knows the client's wire format and persists.
import type { Agent, Conversation, Message, Usage, User } from '../../db/schema.js';
import type { ChatAttachment } from '../../files/attach.js';

/** Who chats, as far as providers need to know. */
export type ChatUser = Pick<User, 'id' | 'role'>;

/** What a provider knows of the platform conversation: which it is, and its upstream counterpart. */
export type ChatConversation = Pick<Conversation, 'id' | 'providerConversationId'>;

export type ProviderEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'suggestion'; text: string }
  | { type: 'usage'; usage: Usage }
  /** The upstream's conversation id (e.g. Coze-issued); the route stores it on the conversation. */
  | { type: 'provider-conversation'; id: string }
  /** Upstream ids worth keeping with the answer (e.g. Coze chat_id); merged into message metadata. */
  | { type: 'provider-metadata'; data: Record<string, unknown> }
  /** The upstream is busy with steps the user does not see (tools, knowledge): a neutral status until text flows again. */
  | { type: 'working' }
  /** The upstream failed; terminal. `message` is safe to show to the user. */
  | { type: 'error'; error: ProviderError };

export interface ProviderError {
  message: string;
  code: string;
  type?: string;
  /** What the upstream said or did (its error): for the log, where it is redacted; never shown or stored. */
  cause?: unknown;
}

export interface ChatInput {
  agent: Agent;
  conversation: ChatConversation;
  user: ChatUser;
  /** Earlier messages of the conversation, oldest first (without the new one); read only by providers that need it. */
  loadHistory(): Promise<Message[]>;
  /** The new user message's text (empty when it is files alone). */
  message: string;
  /** The files it carries, in order. */
  attachments: ChatAttachment[];
  /** Aborted when the client disconnects or a Stop arrives: the provider stops its upstream at once. */
  signal: AbortSignal;
}

/**
 * Takes one event of the answer. A promise back means the client reads slower than the upstream
 * writes: the provider waits for it before it reads on.
 */
export type Emit = (event: ProviderEvent) => Promise<void> | undefined;

export interface ChatProvider {
  /**
   * Answers `input.message`, handing each event to `emit` as it arrives (pushed rather than pulled
   * through async generators, each level of which costs every relayed delta). Upstream failures are
   * `error` events; resolves when the answer is over.
   */
  answer(input: ChatInput, emit: Emit): Promise<void>;
}

/**
 * An earlier message as text for an upstream that is handed the history: its files are named, not
 * sent again (the upstream saw them with their own message).
 */
export function historyText(message: Pick<Message, 'content' | 'attachments'>): string {
  if (!message.attachments.length) return message.content;
  const names = message.attachments.map((file) => file.name).join(', ');
  return `${message.content}${message.content ? '\n' : ''}[Attached: ${names}]`;
}
