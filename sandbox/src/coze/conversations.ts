// /v1/conversation/create, /v1/conversation/retrieve, /v1/conversations/{id}/clear.
import type { RequestContext } from '../context.js';
import { asString, isRecord, newId } from '../http.js';
import { findBot } from '../bots.js';
import { conversationJson, createConversation } from './chat-state.js';
import { parseMessages, stringMap } from './messages.js';
import { cozeError, cozeOk } from './respond.js';

export function create(ctx: RequestContext): void {
  if (ctx.malformed) return cozeError(ctx, 4000, 'Invalid parameter: the request body is not valid JSON');
  const body = isRecord(ctx.body) ? ctx.body : {};
  const botId = asString(body.bot_id);
  if (botId && !findBot(botId)) return cozeError(ctx, 4200, `Requested resource bot_id=${botId} does not exist`);
  const messages = parseMessages(body.messages, 'messages');
  if (!messages.ok) return cozeError(ctx, 4000, `Invalid parameter: ${messages.error}`);
  const conversation = createConversation(ctx.core, {
    ...(botId ? { botId } : {}),
    metaData: stringMap(body.meta_data),
    history: messages.value,
  });
  cozeOk(ctx, conversationJson(conversation));
}

export function retrieve(ctx: RequestContext): void {
  const id = ctx.query.conversation_id ?? '';
  const conversation = ctx.core.conversations.get(id);
  if (!conversation) return cozeError(ctx, 4200, `conversation not found: conversation_id=${id} does not exist`);
  cozeOk(ctx, conversationJson(conversation));
}

/** Starts a new section: the model no longer sees what came before. */
export function clear(ctx: RequestContext): void {
  const id = ctx.params[0] ?? '';
  const conversation = ctx.core.conversations.get(id);
  if (!conversation) return cozeError(ctx, 4200, `conversation not found: conversation_id=${id} does not exist`);
  if (conversation.activeChatId) return cozeError(ctx, 4016, 'A chat is in progress in this conversation');
  conversation.sectionId = newId();
  conversation.history = [];
  cozeOk(ctx, { id: conversation.sectionId, conversation_id: conversation.id });
}
