import { and, eq, or, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { agents, type Agent } from '../db/schema.js';
import type { Permission } from '../roles/permissions.js';
import type { ConsoleAgent, PublicAgent } from './schemas.js';

/** What the console sees. */
export const consoleAgent = (agent: Agent): ConsoleAgent => ({
  id: agent.id,
  name: agent.name,
  description: agent.description,
  avatar: agent.avatar,
  provider: agent.provider,
  model: agent.model,
  prompt: agent.prompt,
  openingStatement: agent.openingStatement,
  openingQuestions: agent.openingQuestions,
  published: agent.published,
  acceptsFiles: agent.acceptsFiles,
  thirdPartyIntegration: agent.thirdPartyIntegration ?? null,
  createdAt: agent.createdAt.toISOString(),
  updatedAt: agent.updatedAt.toISOString(),
});

/** What users see: no provider, model or prompt, so the experience is the same whoever answers. */
export const publicAgent = (agent: Agent): PublicAgent => ({
  id: agent.id,
  name: agent.name,
  description: agent.description,
  avatar: agent.avatar,
  openingStatement: agent.openingStatement,
  openingQuestions: agent.openingQuestions,
});

export async function findAgent(db: Db, id: string): Promise<Agent | null> {
  const [agent] = await db.select().from(agents).where(eq(agents.id, id));
  return agent ?? null;
}

/** True (in SQL) when the permissions `permissions` (a text[] column) hold agents.manage. */
export const managesAgents = (permissions: SQLWrapper) => sql`(${'agents.manage' satisfies Permission}::text = any(${permissions}))`;

/**
 * The agent `id`, when its user may chat with it: anyone when it is published, whoever manages agents
 * (`manages`) always, to try it before publishing. A condition on `agents`, so that starting a chat
 * checks it in the statement that stores the turn.
 */
export const chatableAgent = (id: string | SQLWrapper, manages: SQLWrapper) =>
  and(eq(agents.id, id), or(eq(agents.published, true), sql`${manages}::boolean`))!;

export const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
