// A user's conversations, across every agent: the list (newest first, paged by a cursor, searched by
// title), one conversation, its rename and its deletion. Chatting in one is routes.ts and chat-run.ts.
import { Type } from 'typebox';
import { and, desc, eq, ilike, sql, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isUuid, listedFor, viewerOf, type AgentViewer } from '../agents/agents.js';
import { currentUser, guards, type SignedInUser } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { removeConversationFiles } from '../files/files.js';
import type { FileStorage } from '../storage/storage.js';
import { agents, conversations, type Agent, type Conversation as ConversationRow } from '../db/schema.js';
import { badRequest, notFound } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { containsPattern } from '../http/search.js';
import { isLeaseLive } from './statements.js';
import { Conversation, ConversationId, ConversationList, ConversationPatch } from './schemas.js';
import type { StopSignals } from './stop-signals.js';

const DEFAULT_PAGE = 30;
const MAX_TITLE_CHARS = 200;

type ListedAgent = Pick<Agent, 'name' | 'avatar'> & { chatable: boolean };
/** The conversation's agent as its list shows it; chatable when the agent is still listed for the user (published, visible to their role). */
const listedAgent = (viewer: AgentViewer) => ({
  name: agents.name,
  avatar: agents.avatar,
  chatable: sql<boolean>`${listedFor(viewer)}`,
});

export const conversationView = (c: ConversationRow, agent: ListedAgent): Conversation => ({
  id: c.id,
  agentId: c.agentId,
  agentName: agent.name,
  agentAvatar: agent.avatar,
  chatable: agent.chatable,
  title: c.title,
  answering: isLeaseLive(c),
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

/** The conversation `id` when it is the user's; anyone else's is 404, as if it did not exist. */
export async function ownConversation(db: Db, id: string, userId: string): Promise<ConversationRow> {
  const [conversation] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, id), eq(conversations.userId, userId)));
  if (!conversation) throw notFound(`No conversation with id ${id}`);
  return conversation;
}

// ---- The cursor ----
// A page ends at a (updated_at, id) position; the next page starts strictly after it, so a page
// neither repeats nor skips a row whatever ties the timestamps have. updated_at is kept to the
// microsecond PostgreSQL stores (a JavaScript Date would round it to the millisecond and lose rows).

/** updated_at as UTC text to the microsecond, the cursor's first half. */
const position = sql<string>`to_char(${conversations.updatedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const encodeCursor = (updatedAt: string, id: string) => Buffer.from(`${updatedAt}|${id}`).toString('base64url');

function decodeCursor(cursor: string): { updatedAt: string; id: string } {
  const [, updatedAt, id] = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)\|(.+)$/.exec(Buffer.from(cursor, 'base64url').toString()) ?? [];
  // A date that does not exist (a 30th of February) would fail in the database: refused here.
  const real =
    updatedAt !== undefined &&
    !Number.isNaN(Date.parse(updatedAt)) &&
    new Date(updatedAt).toISOString().slice(0, 23) === updatedAt.slice(0, 23);
  if (!real || !id || !isUuid(id)) throw badRequest('The cursor is not one this list gave: start again without it', 'invalid_cursor');
  return { updatedAt, id };
}

/** A title to keep: trimmed, 1 to 200 characters (a NUL was refused with the body, see http/validation.ts). */
function validTitle(title: string): string {
  const trimmed = title.trim();
  if (!trimmed || trimmed.length > MAX_TITLE_CHARS) throw badRequest(`A title has 1 to ${MAX_TITLE_CHARS} characters`, 'invalid_title');
  return trimmed;
}

export const conversationRoutes: FastifyPluginAsyncTypebox<{ db: Db; stops: StopSignals; storage: FileStorage }> = async (
  app,
  { db, stops, storage },
) => {
  const { requireUser } = guards(db);

  app.get(
    '/api/ai-agent/conversations',
    {
      onRequest: requireUser,
      schema: {
        querystring: Type.Object({
          /** Only this agent's conversations. */
          agentId: Type.Optional(Type.String({ format: 'uuid' })),
          /** Titles containing this text (case-insensitive). */
          q: Type.Optional(Type.String()),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE }),
          /** The previous page's nextCursor. */
          cursor: Type.Optional(Type.String()),
        }),
        response: { 200: ConversationList, ...errorResponses },
      },
    },
    async (request) => {
      const { agentId, q, limit, cursor } = request.query;
      const user = currentUser(request);
      const conditions: SQL[] = [eq(conversations.userId, user.id)];
      if (agentId) conditions.push(eq(conversations.agentId, agentId));
      if (q?.trim()) conditions.push(ilike(conversations.title, containsPattern(q.trim())));
      if (cursor) {
        const after = decodeCursor(cursor);
        conditions.push(sql`(${conversations.updatedAt}, ${conversations.id}) < (${after.updatedAt}::timestamptz, ${after.id}::uuid)`);
      }
      // One row more than the page tells whether another page follows.
      const rows = await db
        .select({ conversation: conversations, agent: listedAgent(viewerOf(user)), position })
        .from(conversations)
        .innerJoin(agents, eq(agents.id, conversations.agentId))
        .where(and(...conditions))
        .orderBy(desc(conversations.updatedAt), desc(conversations.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => conversationView(row.conversation, row.agent)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.position, last.conversation.id) : null,
      };
    },
  );

  /** The user's conversation `id` with its agent, for a view of it. */
  async function viewOf(id: string, user: SignedInUser): Promise<Conversation> {
    const [row] = await db
      .select({ conversation: conversations, agent: listedAgent(viewerOf(user)) })
      .from(conversations)
      .innerJoin(agents, eq(agents.id, conversations.agentId))
      .where(and(eq(conversations.id, id), eq(conversations.userId, user.id)));
    if (!row) throw notFound(`No conversation with id ${id}`);
    return conversationView(row.conversation, row.agent);
  }

  app.get(
    '/api/ai-agent/conversations/:id',
    {
      onRequest: requireUser,
      schema: { params: ConversationId, response: { 200: Conversation, ...errorResponses } },
    },
    async (request) => viewOf(request.params.id, currentUser(request)),
  );

  app.patch(
    '/api/ai-agent/conversations/:id',
    {
      onRequest: requireUser,
      schema: { params: ConversationId, body: ConversationPatch, response: { 200: Conversation, ...errorResponses } },
    },
    async (request) => {
      const user = currentUser(request);
      const title = validTitle(request.body.title);
      // A rename does not touch updated_at: the list's order is by use, and renaming is not using it.
      const renamed = await db
        .update(conversations)
        .set({ title })
        .where(and(eq(conversations.id, request.params.id), eq(conversations.userId, user.id)))
        .returning({ id: conversations.id });
      if (!renamed.length) throw notFound(`No conversation with id ${request.params.id}`);
      return viewOf(request.params.id, user);
    },
  );

  app.delete(
    '/api/ai-agent/conversations/:id',
    {
      onRequest: requireUser,
      schema: { params: ConversationId, response: { 204: NoContent, ...errorResponses } },
    },
    async (request, reply) => {
      const conversation = await ownConversation(db, request.params.id, currentUser(request).id);
      if (isLeaseLive(conversation)) await stops.stop(conversation.id);
      // Its files first, while they still name it (deleting it leaves them in no conversation).
      await removeConversationFiles(db, storage, conversation.id);
      await db.delete(conversations).where(eq(conversations.id, conversation.id));
      return reply.code(204).send(null);
    },
  );
};
