import { Type } from 'typebox';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentUser, guards } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { agents, type Agent } from '../db/schema.js';
import { badRequest, notFound } from '../http/errors.js';
import { NoContent, errorResponses } from '../http/schemas.js';
import { removeStoredUrl, type FileStorage } from '../storage/storage.js';
import { lockRoles } from '../roles/roles.js';
import { consoleAgent, findAgent, listedFor, publicAgent, viewerOf } from './agents.js';
import { AgentCreate, AgentPatch, ConsoleAgent, ConsoleAgentList, ModelList, PublicAgent, PublicAgentList } from './schemas.js';

const AgentId = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const agentRoutes: FastifyPluginAsyncTypebox<{ db: Db; storage: FileStorage }> = async (app, { db, storage }) => {
  const { requireUser, requirePermission } = guards(db);

  /** The agents listed for the caller: published, and visible to their role. */
  const listed = (request: FastifyRequest) =>
    db
      .select()
      .from(agents)
      .where(listedFor(viewerOf(currentUser(request))))
      .orderBy(asc(agents.name));

  app.get(
    '/api/ai-agent',
    { onRequest: requireUser, schema: { response: { 200: PublicAgentList, ...errorResponses } } },
    async (request) => {
      const rows = await listed(request);
      return { items: rows.map(publicAgent) };
    },
  );

  // OpenAI-compatible clients and chat apps list models before chatting: here, an agent is a model.
  app.get(
    '/api/ai-agent/models',
    { onRequest: requireUser, schema: { response: { 200: ModelList, ...errorResponses } } },
    async (request) => {
      const rows = await listed(request);
      return {
        object: 'list' as const,
        data: rows.map((agent) => ({
          id: agent.id,
          object: 'model' as const,
          created: Math.floor(agent.createdAt.getTime() / 1000),
          owned_by: 'agentport',
          name: agent.name,
        })),
      };
    },
  );

  app.get(
    '/api/ai-agent/:id',
    {
      onRequest: requireUser,
      schema: { params: AgentId, response: { 200: PublicAgent, ...errorResponses } },
    },
    async (request) => {
      const [agent] = await db
        .select()
        .from(agents)
        .where(and(eq(agents.id, request.params.id), listedFor(viewerOf(currentUser(request)))));
      if (!agent) throw notFound(`No agent with id ${request.params.id}`);
      return publicAgent(agent);
    },
  );

  // Console: every agent, full detail.
  const consoleRoutes: FastifyPluginAsyncTypebox = async (console) => {
    console.addHook('onRequest', requirePermission('agents.manage'));

    console.get('/console/api/ai-agent', { schema: { response: { 200: ConsoleAgentList, ...errorResponses } } }, async () => {
      const rows = await db.select().from(agents).orderBy(desc(agents.updatedAt));
      return { items: rows.map(consoleAgent) };
    });

    console.post(
      '/console/api/ai-agent',
      {
        schema: { body: AgentCreate, response: { 201: ConsoleAgent, ...errorResponses } },
      },
      async (request, reply) => {
        const agent = await db.transaction(async (tx) => {
          await lockRoles(tx, request.body.visibleTo);
          const [created] = await tx
            .insert(agents)
            .values({ ...request.body, provider: 'native' })
            .returning();
          return created!;
        });
        return reply.code(201).send(consoleAgent(agent));
      },
    );

    console.get(
      '/console/api/ai-agent/:id',
      {
        schema: { params: AgentId, response: { 200: ConsoleAgent, ...errorResponses } },
      },
      async (request) => {
        return consoleAgent(await mustFind(request.params.id));
      },
    );

    console.patch(
      '/console/api/ai-agent/:id',
      {
        schema: { params: AgentId, body: AgentPatch, response: { 200: ConsoleAgent, ...errorResponses } },
      },
      async (request) => {
        const agent = await mustFind(request.params.id);
        const { customVariables, ...fields } = request.body;
        const changes: Partial<Agent> = { ...fields, updatedAt: new Date() };
        const coze = agent.thirdPartyIntegration?.coze;
        if (coze) {
          if (fields.prompt !== undefined && fields.prompt !== agent.prompt) {
            throw badRequest("This agent's prompt lives in Coze; change it there and sync", 'prompt_read_only');
          }
          if (fields.model !== undefined && fields.model !== agent.model)
            throw badRequest('A Coze agent has no model to choose', 'model_read_only');
          if (customVariables) changes.thirdPartyIntegration = { coze: { ...coze, customVariables } };
        } else if (customVariables) {
          throw badRequest('customVariables apply to Coze agents only');
        }
        const updated = await db.transaction(async (tx) => {
          await lockRoles(tx, fields.visibleTo);
          const [row] = await tx.update(agents).set(changes).where(eq(agents.id, agent.id)).returning();
          return row;
        });
        if (!updated) throw notFound(`No agent with id ${agent.id}`);
        if (fields.avatar !== undefined && fields.avatar !== agent.avatar) await removeStoredUrl(storage, agent.avatar);
        return consoleAgent(updated);
      },
    );

    console.delete(
      '/console/api/ai-agent/:id',
      {
        schema: { params: AgentId, response: { 204: NoContent, ...errorResponses } },
      },
      async (request, reply) => {
        const agent = await mustFind(request.params.id);
        await db.delete(agents).where(eq(agents.id, agent.id));
        await removeStoredUrl(storage, agent.avatar);
        return reply.code(204).send(null);
      },
    );
  };
  await app.register(consoleRoutes);

  async function mustFind(id: string): Promise<Agent> {
    const agent = await findAgent(db, id);
    if (!agent) throw notFound(`No agent with id ${id}`);
    return agent;
  }
};
