// POST /v3/chat and its companions: cancel, retrieve, message list.
import type { RequestContext } from '../context.js';
import { asString, isRecord, newId, nowSeconds } from '../http.js';
import { benchOptions } from '../bench.js';
import { findBot, type ReplyKind } from '../bots.js';
import { describeBytes } from '../files.js';
import { openEventStream, playSteps, playTicked, type PlayOutcome, type StreamOut } from '../sse.js';
import { benchStream } from './bench-stream.js';
import { cancelChat, createConversation, endChat, type ChatRun, type Conversation } from './chat-state.js';
import { parseMessages, stringMap } from './messages.js';
import { chatJson, messageJson, NO_ERROR, ZERO_USAGE, type ChatRecord } from './objects.js';
import { DEMO_REPLIES } from './replies-demo.js';
import { TEST_REPLIES } from './replies-test.js';
import { cozeError, cozeOk } from './respond.js';
import { CozeScript, estimateTokens } from './script.js';
import type { Reply } from './turn.js';

/** Every bot's reply; the bench bot is played from a shared timer instead (bench-stream.ts). */
const REPLIES: Record<Exclude<ReplyKind, 'bench'>, Reply> = { ...DEMO_REPLIES, ...TEST_REPLIES };

export async function startChat(ctx: RequestContext): Promise<void> {
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (ctx.malformed) return cozeError(ctx, 4000, 'Invalid parameter: the request body is not valid JSON');
  const botId = asString(body.bot_id);
  const userId = asString(body.user_id);
  if (!botId) return cozeError(ctx, 4000, 'Invalid parameter: bot_id is required');
  if (!userId) return cozeError(ctx, 4000, 'Invalid parameter: user_id is required');
  const bot = findBot(botId);
  if (!bot) return cozeError(ctx, 4200, `Requested resource bot_id=${botId} does not exist`);
  if (!bot.published) return cozeError(ctx, 4015, `The bot_id ${botId} has not been published to the channel Agent As API`);
  const input = parseMessages(body.additional_messages, 'additional_messages');
  if (!input.ok) return cozeError(ctx, 4000, `Invalid parameter: ${input.error}`);
  // A file_id must be one this account uploaded (Coze keeps files per account).
  const unknownFile = input.value.flatMap((m) => m.files).find((f) => 'fileId' in f && !ctx.core.files.has(f.fileId));
  if (unknownFile && 'fileId' in unknownFile)
    return cozeError(ctx, 4000, `Invalid parameter: file_id ${unknownFile.fileId} does not exist`);
  const stream = body.stream === true;
  const autoSaveHistory = body.auto_save_history !== false;
  if (!stream && !autoSaveHistory) return cozeError(ctx, 4000, 'Invalid parameter: auto_save_history must be true when stream is false');

  // conversation_id comes from the query string only; without one, a new conversation is issued.
  const requested = ctx.query.conversation_id;
  const conversation = requested ? findConversation(ctx, requested, userId) : createConversation(ctx.core, { botId });
  if (!conversation) return; // findConversation answered the error
  conversation.userId ??= userId;

  const context = [...conversation.history, ...input.value];
  const userTexts = context.filter((m) => m.role === 'user').map((m) => m.text);
  const record: ChatRecord = {
    id: newId(),
    conversationId: conversation.id,
    botId,
    sectionId: conversation.sectionId,
    createdAt: nowSeconds(),
    lastError: NO_ERROR,
    status: 'in_progress',
    usage: ZERO_USAGE,
  };
  const run: ChatRun = {
    record,
    conversation,
    input: input.value,
    autoSaveHistory,
    messages: [],
    abort: new AbortController(),
    ended: false,
  };
  ctx.core.chats.set(record.id, run);
  conversation.activeChatId = record.id;

  const script = new CozeScript(record, estimateTokens(context.map((m) => m.text).join('\n')) + 40);
  const vars = stringMap(body.custom_variables);
  const bench = bot.reply === 'bench' ? benchOptions(vars) : undefined;
  const benchPlan = bench && benchStream(script, bench.deltas, bench.intervalMs);
  const lastUser = context.filter((m) => m.role === 'user').at(-1);
  const files = (lastUser?.files ?? []).map((f) => {
    const uploaded = 'fileId' in f ? ctx.core.files.get(f.fileId)! : undefined;
    return uploaded
      ? { type: f.type, name: uploaded.name, description: describeBytes(uploaded.bytes) }
      : { type: f.type, name: 'fileUrl' in f ? f.fileUrl : '', description: 'by URL' };
  });
  if (bot.reply !== 'bench') REPLIES[bot.reply](script, { bot, text: userTexts.at(-1) ?? '', userTexts, files, vars });

  let out: StreamOut | null = null;
  if (stream) {
    out = openEventStream(ctx.res, { trickle: script.trickle });
    ctx.res.on('close', () => run.abort.abort());
  } else {
    cozeOk(ctx, chatJson(record)); // stream:false answers at once; poll /v3/chat/retrieve
  }
  const outcome: PlayOutcome =
    bench && benchPlan
      ? await playTicked(benchPlan, ctx.core.tickers.get(bench.intervalMs, bench.pacing), out, run.abort.signal)
      : await playSteps(script.steps, out, run.abort.signal);
  endChat(run, outcome, script.ending, script.messages);
  if (stream && outcome !== 'dropped') ctx.res.end();
}

/** The conversation named in the query, or undefined after answering an error (unknown, other user, busy). */
function findConversation(ctx: RequestContext, id: string, userId: string): Conversation | undefined {
  if (!/^\d+$/.test(id)) return void cozeError(ctx, 4000, `Invalid parameter: conversation_id ${id} is not a valid id`);
  const conversation = ctx.core.conversations.get(id);
  // Coze's cloud leaves an unknown id undocumented; the sandbox answers 4200 so a client's
  // "start a fresh conversation" path can be tested.
  if (!conversation) return void cozeError(ctx, 4200, `conversation not found: conversation_id=${id} does not exist`);
  if (conversation.userId !== undefined && conversation.userId !== userId) {
    return void cozeError(ctx, 4101, `The user_id ${userId} has no permission to access conversation_id=${id}`);
  }
  if (conversation.activeChatId)
    return void cozeError(ctx, 4016, 'A chat is already in progress in this conversation; wait for it to finish or cancel it');
  return conversation;
}

function findChat(ctx: RequestContext, conversationId: string | undefined, chatId: string | undefined): ChatRun | undefined {
  if (!conversationId || !chatId) return void cozeError(ctx, 4000, 'Invalid parameter: conversation_id and chat_id are required');
  const run = ctx.core.chats.get(chatId);
  if (!run || run.conversation.id !== conversationId)
    return void cozeError(ctx, 4200, `Requested resource chat_id=${chatId} does not exist`);
  return run;
}

/** POST /v3/chat/cancel {conversation_id, chat_id}. */
export function cancel(ctx: RequestContext): void {
  const body = isRecord(ctx.body) ? ctx.body : {};
  const run = findChat(ctx, asString(body.conversation_id), asString(body.chat_id));
  if (!run) return;
  if (run.ended || run.record.status !== 'in_progress') {
    return cozeError(ctx, 4104, `The chat is ${run.record.status} and can not be canceled`);
  }
  cancelChat(run);
  cozeOk(ctx, chatJson(run.record));
}

/** GET (or POST) /v3/chat/retrieve?conversation_id=&chat_id=. */
export function retrieve(ctx: RequestContext): void {
  const run = findChat(ctx, ctx.query.conversation_id, ctx.query.chat_id);
  if (run) cozeOk(ctx, chatJson(run.record));
}

/** GET (or POST) /v3/chat/message/list?conversation_id=&chat_id=: the completed messages, once the chat ended. */
export function messageList(ctx: RequestContext): void {
  const run = findChat(ctx, ctx.query.conversation_id, ctx.query.chat_id);
  if (run) cozeOk(ctx, run.messages.map(messageJson));
}
