import { Type, type Static } from 'typebox';
import { eq, asc } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartRefusal,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { isUuid } from '../agents/agents.js';
import { bearerToken, currentUser, guards, refusal, unauthorized } from '../auth/guard.js';
import { userForToken } from '../auth/tokens.js';
import { agents, messages, type FileRow, type Message } from '../db/schema.js';
import { resolveAttachments, type AttachmentDeps, type AttachmentRef } from '../files/attach.js';
import { badRequest, errorBody, notFound } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { openChat, type ChatDeps } from './chat-run.js';
import { checkNativeAttachments } from './providers/native.js';
import { ownConversation } from './conversations.js';
import { CompletionStream } from './completion-stream.js';
import { followAnswer, runningAnswer } from './follow-answer.js';
import { failInterruptedAnswers, isLeaseLive } from './statements.js';
import { ChatCompletion, ConversationId, Message as MessageView, MessageList, StopResult } from './schemas.js';

// The request is OpenAI's chat-completion request, so that OpenAI clients and chat apps work as they
// are. Their fields that agentport has no use for (an agent brings its own model settings, and only
// the last message's text is new) are accepted by name, whatever their value, and ignored; any other
// unknown field is refused, as on every route. The lists are checked against the openai package:
// a field it adds or drops fails the type check here.
type KeysOfAny<T> = T extends unknown ? keyof T : never;
const Ignored = Type.Optional(Type.Unknown());

// The last message's parts are read (text, and the files it carries: see files/attach.ts); earlier
// messages' parts are accepted and ignored, as their text is.
const ContentPart = Type.Object({
  type: Type.String(),
  text: Type.Optional(Type.String()),
  image_url: Type.Optional(Type.Object({ url: Type.String(), detail: Ignored })),
  file: Type.Optional(Type.Object({ file_id: Type.Optional(Type.String()), file_data: Ignored, filename: Ignored })),
  ...({ input_audio: Ignored, refusal: Ignored, prompt_cache_breakpoint: Ignored } satisfies Record<
    Exclude<KeysOfAny<ChatCompletionContentPart | ChatCompletionContentPartRefusal>, 'type' | 'text' | 'image_url' | 'file'>,
    typeof Ignored
  >),
});
const ChatMessage = Type.Object({
  role: Type.String(),
  content: Type.Union([Type.String(), Type.Array(ContentPart), Type.Null()]),
  ...({
    name: Ignored,
    tool_calls: Ignored,
    tool_call_id: Ignored,
    function_call: Ignored,
    refusal: Ignored,
    audio: Ignored,
  } satisfies Record<Exclude<KeysOfAny<ChatCompletionMessageParam>, 'role' | 'content'>, typeof Ignored>),
});
const CompletionRequest = Type.Object({
  agentId: Type.Optional(Type.String()),
  /** OpenAI-compatible clients name the agent as the model. */
  model: Type.Optional(Type.String()),
  conversationId: Type.Optional(Type.String({ format: 'uuid' })),
  /**
   * A user message of the conversation to replace, with everything after it, by this turn: an edited
   * message, or the same one answered again (regenerate, retry).
   */
  replaceFrom: Type.Optional(Type.String({ format: 'uuid' })),
  messages: Type.Array(ChatMessage, { minItems: 1, maxItems: 500 }),
  stream: Type.Optional(Type.Boolean()),
  /**
   * agentport's: the answer goes on when the client disconnects (a reload, a closed tab, a network
   * drop), until it ends, is stopped or reaches ANSWER_TIMEOUT_MS; GET …/conversations/:id/stream
   * resumes it. Unset, a disconnect stops the upstream, as OpenAI's API does.
   */
  keepRunning: Type.Optional(Type.Boolean()),
  ...({
    audio: Ignored,
    frequency_penalty: Ignored,
    function_call: Ignored,
    functions: Ignored,
    logit_bias: Ignored,
    logprobs: Ignored,
    max_completion_tokens: Ignored,
    max_tokens: Ignored,
    metadata: Ignored,
    modalities: Ignored,
    moderation: Ignored,
    n: Ignored,
    parallel_tool_calls: Ignored,
    prediction: Ignored,
    presence_penalty: Ignored,
    prompt_cache_key: Ignored,
    prompt_cache_options: Ignored,
    prompt_cache_retention: Ignored,
    reasoning_effort: Ignored,
    response_format: Ignored,
    safety_identifier: Ignored,
    seed: Ignored,
    service_tier: Ignored,
    stop: Ignored,
    store: Ignored,
    stream_options: Ignored,
    temperature: Ignored,
    tool_choice: Ignored,
    tools: Ignored,
    top_logprobs: Ignored,
    top_p: Ignored,
    user: Ignored,
    verbosity: Ignored,
    web_search_options: Ignored,
  } satisfies Record<Exclude<KeysOfAny<ChatCompletionCreateParams>, 'model' | 'messages' | 'stream'>, typeof Ignored>),
});
const MAX_MESSAGE_CHARS = 32_000;

/** The new user message: the last one, which must be the user's and must say something or carry a file. */
function newUserMessage(body: Static<typeof CompletionRequest>, filesPerMessage: number): { text: string; refs: AttachmentRef[] } {
  const last = body.messages[body.messages.length - 1]!;
  if (last.role !== 'user') throw badRequest('The last message must have role "user"', 'invalid_message');
  const parts = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : (last.content ?? []);
  const texts: string[] = [];
  const refs: AttachmentRef[] = [];
  for (const part of parts) {
    if (part.type === 'text') texts.push(part.text ?? '');
    else if (part.type === 'image_url' && part.image_url) refs.push({ imageUrl: part.image_url.url });
    else if (part.type === 'file' && part.file?.file_id) refs.push({ fileId: part.file.file_id });
    else if (part.type === 'file')
      throw badRequest(
        'A file part names an uploaded file: {"type":"file","file":{"file_id":"<id>"}} (upload with POST /api/ai-agent/files).',
        'invalid_content_part',
      );
    else if (part.type === 'image_url') throw badRequest('An image_url part needs image_url.url.', 'invalid_content_part');
    else
      throw badRequest(`A message part of type "${part.type}" cannot be sent: send text, image_url or file parts.`, 'invalid_content_part');
  }
  const text = texts.join('\n');
  if (!text.trim() && !refs.length) throw badRequest('The message is empty', 'empty_message');
  if (text.length > MAX_MESSAGE_CHARS) throw badRequest(`The message is longer than ${MAX_MESSAGE_CHARS} characters`, 'message_too_long');
  if (refs.length > filesPerMessage)
    throw badRequest(
      `A message can carry at most ${filesPerMessage} files: remove some and send them in another message.`,
      'too_many_files',
    );
  return { text, refs };
}

export const messageView = (message: Message): MessageView => ({
  id: message.id,
  role: message.role,
  content: message.content,
  reasoningContent: message.reasoningContent,
  status: message.status,
  error: message.error ?? null,
  usage: message.usage ?? null,
  suggestions: message.suggestions,
  attachments: message.attachments,
  createdAt: message.createdAt.toISOString(),
});

export interface ChatRouteOptions {
  deps: ChatDeps;
  attachments: AttachmentDeps;
}

export const chatRoutes: FastifyPluginAsyncTypebox<ChatRouteOptions> = async (app, { deps, attachments }) => {
  const { db, stops } = deps;
  const { requireUser } = guards(db);

  /** The files a message carries, checked against the caller and what the agent can read. */
  async function messageFiles(
    agentId: string,
    token: string,
    conversationId: string | undefined,
    refs: AttachmentRef[],
  ): Promise<FileRow[]> {
    const user = await userForToken(db, token);
    if (!user) throw unauthorized();
    // Whether the agent may be chatted with is the chat's own check (openChat); here, what it reads.
    const [agent] = await db
      .select({ provider: agents.provider, acceptsFiles: agents.acceptsFiles })
      .from(agents)
      .where(eq(agents.id, agentId));
    return resolveAttachments(attachments, {
      userId: user.id,
      conversationId,
      refs,
      check: (files) => {
        if (agent?.provider === 'native') checkNativeAttachments(agent, files);
      },
    });
  }

  app.post(
    '/api/ai-agent/chat/completions',
    {
      // stream true answers text/event-stream, written by CompletionStream past the serialiser (the
      // reply is hijacked); 200 here is the JSON answer of stream false.
      schema: { body: CompletionRequest, response: { 200: ChatCompletion, ...errorResponses } },
      // The token is checked by the statement that starts the chat: no round trip of its own. Whatever
      // refuses a request before that (an unreadable body, bad input) still answers 401 to a bad token.
      errorHandler: async (error, request, reply) => {
        const token = bearerToken(request);
        const signedIn = error.statusCode === 401 || (token !== null && (await userForToken(db, token)) !== null);
        return app.errorHandler(signedIn ? error : await refusal(db, token), request, reply);
      },
    },
    async (request, reply) => {
      const token = bearerToken(request);
      if (!token) throw unauthorized();
      const body = request.body;
      const agentId = body.agentId ?? body.model;
      if (!agentId) throw badRequest('Name the agent: agentId (or model, for OpenAI-compatible clients)', 'missing_agent');
      if (!isUuid(agentId)) throw notFound(`No agent with id ${agentId}`);
      const message = newUserMessage(body, attachments.limits.perMessage);
      const files = message.refs.length ? await messageFiles(agentId, token, body.conversationId, message.refs) : [];
      const run = await openChat(deps, {
        token,
        agentId,
        conversationId: body.conversationId,
        replaceFrom: body.replaceFrom,
        content: message.text,
        attachments: files,
      });
      const ids = {
        id: `chatcmpl-${run.messageId}`,
        created: Math.floor(Date.now() / 1000),
        model: run.agent.id,
        conversationId: run.conversation.id,
        messageId: run.messageId,
      };

      // A client that hangs up before the answer is complete stops it, unless it asked to keep it running.
      reply.raw.on('close', () => {
        if (!reply.raw.writableEnded && !body.keepRunning) run.abort('client-disconnected');
      });

      if (!body.stream) {
        await run.answer(() => undefined); // collected on the run
        reply.header('x-conversation-id', run.conversation.id);
        if (run.error) {
          // The failed answer is stored with what arrived before the failure: the ids say where.
          return reply
            .code(502)
            .send(errorBody(502, run.error.message, run.error.code, { conversationId: run.conversation.id, messageId: run.messageId }));
        }
        return {
          id: ids.id,
          object: 'chat.completion' as const,
          created: ids.created,
          model: ids.model,
          conversation_id: ids.conversationId,
          message_id: ids.messageId,
          user_message_id: run.questionId,
          status: run.status === 'canceled' ? ('canceled' as const) : ('completed' as const),
          choices: [
            {
              index: 0,
              message: { role: 'assistant' as const, content: run.content, reasoning_content: run.reasoning || undefined },
              finish_reason: 'stop' as const,
            },
          ],
          usage: run.usage,
          suggestions: run.suggestions,
        };
      }

      reply.hijack();
      const stream = new CompletionStream(reply.raw, ids, {
        signal: run.controller.signal,
        stallTimeoutMs: deps.answers.stallTimeoutMs,
        // Its connection is closed either way; an answer kept running goes on without it.
        onStall: () => {
          if (!body.keepRunning) run.abort('client-stalled');
        },
      });
      await stream.start(run.questionId);
      await run.answer((step) => (step === 'working' ? stream.working() : stream.delta(step)));
      if (run.status === 'failed' && run.error) stream.fail(run.error);
      else stream.finish({ status: run.status === 'canceled' ? 'canceled' : 'completed', usage: run.usage, suggestions: run.suggestions });
    },
  );

  app.get(
    '/api/ai-agent/conversations/:id/messages',
    {
      onRequest: requireUser,
      schema: { params: ConversationId, response: { 200: MessageList, ...errorResponses } },
    },
    async (request) => {
      const conversation = await ownConversation(db, request.params.id, currentUser(request).id);
      await failInterruptedAnswers(db, conversation.id);
      const rows = await db.select().from(messages).where(eq(messages.conversationId, conversation.id)).orderBy(asc(messages.seq));
      return { items: rows.map(messageView) };
    },
  );

  app.get(
    '/api/ai-agent/conversations/:id/stream',
    {
      onRequest: requireUser,
      // 200 is the answer stream (text/event-stream), written by CompletionStream past the serialiser.
      schema: { params: ConversationId, response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      const conversation = await ownConversation(db, request.params.id, currentUser(request).id);
      const answer = isLeaseLive(conversation) ? await runningAnswer(db, conversation.id) : null;
      if (!answer) return reply.code(204).send(null);
      reply.hijack();
      await followAnswer(
        { db, followers: deps.followers, stallTimeoutMs: deps.answers.stallTimeoutMs, log: deps.log },
        conversation.agentId,
        answer,
        reply.raw,
      );
    },
  );

  app.post(
    '/api/ai-agent/conversations/:id/stop',
    {
      onRequest: requireUser,
      schema: { params: ConversationId, response: { 202: StopResult, ...errorResponses } },
    },
    async (request, reply) => {
      const conversation = await ownConversation(db, request.params.id, currentUser(request).id);
      const answering = isLeaseLive(conversation);
      if (answering) await stops.stop(conversation.id);
      return reply.code(202).send({ stopped: answering });
    },
  );
};
