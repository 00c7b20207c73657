// Coze's Chat and Message objects, with the exact key order the real service emits.

export type ChatStatus = 'created' | 'in_progress' | 'completed' | 'failed' | 'canceled' | 'requires_action';

export interface Usage {
  token_count: number;
  output_count: number;
  input_count: number;
}

export interface ChatRecord {
  id: string;
  conversationId: string;
  botId: string;
  sectionId: string;
  createdAt: number;
  completedAt?: number;
  failedAt?: number;
  lastError: { code: number; msg: string };
  status: ChatStatus;
  usage: Usage;
}

export const ZERO_USAGE: Usage = { token_count: 0, output_count: 0, input_count: 0 };
export const NO_ERROR = { code: 0, msg: '' } as const;

export function chatJson(chat: ChatRecord): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: chat.id,
    conversation_id: chat.conversationId,
    bot_id: chat.botId,
    created_at: chat.createdAt,
  };
  if (chat.completedAt !== undefined) data.completed_at = chat.completedAt;
  if (chat.failedAt !== undefined) data.failed_at = chat.failedAt;
  data.last_error = chat.lastError;
  data.status = chat.status;
  data.usage = chat.usage;
  data.section_id = chat.sectionId;
  return data;
}

export type MessageType = 'answer' | 'verbose' | 'follow_up' | 'function_call' | 'tool_response' | 'tool_output' | 'knowledge' | 'question';

export interface MessageFields {
  id: string;
  conversationId: string;
  botId: string;
  chatId: string;
  sectionId: string;
  type: MessageType;
  content: string;
  /** `text` unless said otherwise (an answer may be a `card`). */
  contentType?: 'text' | 'card';
  reasoningContent?: string;
  /** Present on `conversation.message.completed` (and in message lists), absent on deltas. */
  createdAt?: number;
}

export function messageJson(m: MessageFields): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: m.id,
    conversation_id: m.conversationId,
    bot_id: m.botId,
    role: 'assistant',
    type: m.type,
    content: m.content,
  };
  if (m.reasoningContent !== undefined) data.reasoning_content = m.reasoningContent;
  data.content_type = m.contentType ?? 'text';
  data.chat_id = m.chatId;
  data.section_id = m.sectionId;
  if (m.createdAt !== undefined) data.created_at = m.createdAt;
  return data;
}

/** The verbose message that marks the end of the answers. */
export const GENERATE_ANSWER_FINISH = JSON.stringify({
  msg_type: 'generate_answer_finish',
  data: JSON.stringify({ finish_reason: 0, FinData: '' }),
  from_module: null,
  from_unit: null,
});
