import { eq, or, sql } from 'drizzle-orm';
import { preparedFor, type Db } from '../db/index.js';
import { agents, type Agent } from '../db/schema.js';
import { notFound } from '../http/errors.js';

/** What the console sees. */
export const consoleAgent = (agent: Agent) => ({
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
  thirdPartyIntegration: agent.thirdPartyIntegration ?? null,
  createdAt: agent.createdAt.toISOString(),
  updatedAt: agent.updatedAt.toISOString(),
});

/** What users see: no provider, model or prompt, so the experience is the same whoever answers. */
export const publicAgent = (agent: Agent) => ({
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

// Every chat asks this: prepared.
const chatableAgentById = preparedFor((db) => db.select().from(agents)
  .where(sql`${eq(agents.id, sql.placeholder('id'))} and ${or(eq(agents.published, true), sql`${sql.placeholder('admin')}::boolean`)}`)
  .prepare('chatable_agent_by_id'));

/** An agent a user may chat with: published, or any agent for an admin (to try it before publishing). */
export async function chatableAgent(db: Db, id: string, role: 'admin' | 'user'): Promise<Agent> {
  const [agent] = await chatableAgentById(db).execute({ id, admin: role === 'admin' });
  if (!agent) throw notFound(`No agent with id ${id}`);
  return agent;
}

export const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
