import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
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

/** An agent a user may chat with: published, or any agent for an admin (to try it before publishing). */
export async function chatableAgent(db: Db, id: string, role: 'admin' | 'user'): Promise<Agent> {
  const [agent] = await db.select().from(agents)
    .where(role === 'admin' ? eq(agents.id, id) : and(eq(agents.id, id), eq(agents.published, true)));
  if (!agent) throw notFound(`No agent with id ${id}`);
  return agent;
}

export const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
