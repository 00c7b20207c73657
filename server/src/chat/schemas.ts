// What the chat routes answer, and the chunks of the answer stream, as schemas (for the routes and
// tests) and types (for the web app, via ../contract.ts).
import { Type, type Static } from 'typebox';
import { Attachment } from '../files/schemas.js';

export const Usage = Type.Object({
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  total_tokens: Type.Integer(),
});
export type Usage = Static<typeof Usage>;

/** Why an answer failed; `message` is fit to show the user. */
export const MessageError = Type.Object({ message: Type.String(), type: Type.String(), code: Type.String() });
export type MessageError = Static<typeof MessageError>;

export const MessageStatus = Type.Union([
  Type.Literal('streaming'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
]);
export type MessageStatus = Static<typeof MessageStatus>;

/** How an answer that ran to its end ended: on its own, or stopped. */
const EndStatus = Type.Union([Type.Literal('completed'), Type.Literal('canceled')]);

export const Conversation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  agentId: Type.String({ format: 'uuid' }),
  /** The agent as the list shows it, so that one list can hold every agent's conversations. */
  agentName: Type.String(),
  agentAvatar: Type.Union([Type.String(), Type.Null()]),
  /**
   * The agent is listed for the user (published, visible to their role): the conversation can go on.
   * False once it was unpublished or hidden from their role: it stays readable, and a new message to
   * it is refused (403 agent_unavailable).
   */
  chatable: Type.Boolean(),
  title: Type.String(),
  /** An answer is streaming in it (on any instance, from any tab). */
  answering: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Conversation = Static<typeof Conversation>;

/** Newest first; `nextCursor` fetches the page after this one (null on the last page). */
export const ConversationList = Type.Object({ items: Type.Array(Conversation), nextCursor: Type.Union([Type.String(), Type.Null()]) });
export type ConversationList = Static<typeof ConversationList>;

/** The path parameters of /api/ai-agent/conversations/:id and the routes under it. */
export const ConversationId = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** PATCH /api/ai-agent/conversations/:id: the new title (1-200 characters once trimmed). */
export const ConversationPatch = Type.Object({ title: Type.String() });
export type ConversationPatch = Static<typeof ConversationPatch>;

export const Message = Type.Object({
  id: Type.String({ format: 'uuid' }),
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
  content: Type.String(),
  reasoningContent: Type.String(),
  status: MessageStatus,
  error: Type.Union([MessageError, Type.Null()]),
  usage: Type.Union([Usage, Type.Null()]),
  suggestions: Type.Array(Type.String()),
  /** The files a user message carries (none on answers). */
  attachments: Type.Array(Attachment),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Message = Static<typeof Message>;

export const MessageList = Type.Object({ items: Type.Array(Message) });
export type MessageList = Static<typeof MessageList>;

/** POST /api/ai-agent/conversations/:id/stop: whether an answer was running (and is now stopped). */
export const StopResult = Type.Object({ stopped: Type.Boolean() });
export type StopResult = Static<typeof StopResult>;

/** POST /api/ai-agent/chat/completions with stream false: OpenAI's chat.completion, with agentport's ids. */
export const ChatCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  /** The agent's id. */
  model: Type.String(),
  conversation_id: Type.String({ format: 'uuid' }),
  message_id: Type.String({ format: 'uuid' }),
  /** The stored id of the user's message this answers (what replaceFrom names, to edit it or answer it again). */
  user_message_id: Type.String({ format: 'uuid' }),
  status: EndStatus,
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({
        role: Type.Literal('assistant'),
        content: Type.String(),
        /** Only when the agent reasoned. */
        reasoning_content: Type.Optional(Type.String()),
      }),
      finish_reason: Type.Literal('stop'),
    }),
  ),
  usage: Type.Union([Usage, Type.Null()]),
  suggestions: Type.Array(Type.String()),
});
export type ChatCompletion = Static<typeof ChatCompletion>;

export const ChunkDelta = Type.Object({
  role: Type.Optional(Type.Literal('assistant')),
  content: Type.Optional(Type.String()),
  reasoning_content: Type.Optional(Type.String()),
});
export type ChunkDelta = Static<typeof ChunkDelta>;

/**
 * One `data:` event of the answer stream (stream true): OpenAI's chat.completion.chunk, with
 * agentport's ids, the agent's unseen work, and the end's usage, suggestions and status. The stream
 * is written by CompletionStream, not by a serialiser; tests hold it to this schema.
 */
export const CompletionChunk = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion.chunk'),
  created: Type.Integer(),
  model: Type.String(),
  conversation_id: Type.String({ format: 'uuid' }),
  message_id: Type.String({ format: 'uuid' }),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      delta: ChunkDelta,
      finish_reason: Type.Union([Type.Literal('stop'), Type.Null()]),
    }),
  ),
  /** On the first chunk: the stored id of the user's message this answers (what replaceFrom names). */
  user_message_id: Type.Optional(Type.String({ format: 'uuid' })),
  /** The agent runs steps the user does not see (tools, knowledge) until the next text. */
  activity: Type.Optional(Type.Literal('working')),
  /** On the last chunk (finish_reason "stop"): */
  usage: Type.Optional(Type.Union([Usage, Type.Null()])),
  suggestions: Type.Optional(Type.Array(Type.String())),
  status: Type.Optional(EndStatus),
});
export type CompletionChunk = Static<typeof CompletionChunk>;

/** The stream's event when the answer fails after the stream began; `data: [DONE]` follows. */
export const CompletionStreamError = Type.Object({ error: MessageError });
export type CompletionStreamError = Static<typeof CompletionStreamError>;

/** Any JSON `data:` event of the answer stream (the last event, `[DONE]`, is not JSON). */
export const CompletionEvent = Type.Union([CompletionChunk, CompletionStreamError]);
export type CompletionEvent = Static<typeof CompletionEvent>;
