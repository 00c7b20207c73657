// Console routes for Coze: list the space's bots, import one as an agent, sync an imported agent.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { consoleAgent, findAgent } from '../agents/agents.js';
import { guards } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { HttpError, notFound } from '../http/errors.js';
import { errorResponses } from '../http/schemas.js';
import type { FileStorage } from '../storage/storage.js';
import { BotCatalog } from './catalog.js';
import type { CozeClient } from './openapi/client.js';
import type { CozeConfig } from './openapi/config.js';
import { cozeHttpError, findImported, importBot, syncAgent, type CozeImporterDeps, type ImportResult } from './import.js';
import { CozeBotPage, ImportResult as ImportView } from './schemas.js';

export interface CozeRoutesOptions {
  db: Db;
  storage: FileStorage;
  coze: { client: CozeClient; config: CozeConfig } | null;
  listCacheSeconds: number;
}

const NOT_CONFIGURED = new HttpError(
  503,
  'Coze is not configured on this server. Set COZE_API_TOKEN (or the COZE_OAUTH_* variables), COZE_SPACE_ID and, for coze.com, COZE_API_BASE=https://api.coze.com.',
  'coze_not_configured',
);

const importView = (result: ImportResult): ImportView => ({
  agent: consoleAgent(result.agent),
  ...(result.avatarError ? { avatarError: result.avatarError } : {}),
});

export const cozeRoutes: FastifyPluginAsyncTypebox<CozeRoutesOptions> = async (app, { db, storage, coze, listCacheSeconds }) => {
  const { requirePermission } = guards(db);
  const importer: CozeImporterDeps | null = coze && {
    db,
    storage,
    client: coze.client,
    spaceId: coze.config.spaceId,
    catalog: new BotCatalog(coze.client, coze.config, listCacheSeconds * 1000),
  };
  const configured = () => {
    if (!importer) throw NOT_CONFIGURED;
    return importer;
  };

  app.get(
    '/console/api/ai-agent/coze/list',
    {
      onRequest: requirePermission('coze.list'),
      schema: {
        querystring: Type.Object({
          page: Type.Integer({ minimum: 1, default: 1 }),
          pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          keyword: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: CozeBotPage, ...errorResponses },
      },
    },
    async (request) => {
      const deps = configured();
      const { page, pageSize } = request.query;
      const keyword = request.query.keyword?.trim().toLowerCase();
      const bots = await deps.catalog.all().catch((error) => {
        throw cozeHttpError(error);
      });
      const matching = keyword
        ? bots.filter((bot) => bot.name.toLowerCase().includes(keyword) || bot.description.toLowerCase().includes(keyword))
        : bots;
      const slice = matching.slice((page - 1) * pageSize, page * pageSize);
      const imported = await findImported(
        db,
        slice.map((bot) => bot.botId),
      );
      return {
        items: slice.map((bot) => ({ ...bot, imported: imported.has(bot.botId), agentId: imported.get(bot.botId) ?? null })),
        total: matching.length,
        page,
        pageSize,
      };
    },
  );

  app.post(
    '/console/api/ai-agent/import/coze',
    {
      onRequest: requirePermission('coze.import'),
      schema: {
        body: Type.Object({
          cozeBotId: Type.String({ pattern: '^[0-9]{1,32}$' }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          description: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
        response: { 201: ImportView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { cozeBotId, name, description } = request.body;
      const result = await importBot(configured(), { botId: cozeBotId, name, description });
      return reply.code(201).send(importView(result));
    },
  );

  app.post(
    '/console/api/ai-agent/:id/sync',
    {
      onRequest: requirePermission('coze.import'),
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: ImportView, ...errorResponses } },
    },
    async (request) => {
      const agent = await findAgent(db, request.params.id);
      if (!agent) throw notFound(`No agent with id ${request.params.id}`);
      return importView(await syncAgent(configured(), agent));
    },
  );
};
