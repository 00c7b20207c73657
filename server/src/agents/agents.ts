import { and, eq, isNull, or, sql, type SQLWrapper } from 'drizzle-orm';
import { hasPermission, type SignedInUser } from '../auth/guard.js';
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
  visibleTo: agent.visibleTo,
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

/** Who looks at agents: their role's key, and whether it manages agents (as values or, inside a statement, SQL). */
export interface AgentViewer {
  role: string | SQLWrapper;
  manages: boolean | SQLWrapper;
}

export const viewerOf = (user: SignedInUser): AgentViewer => ({ role: user.role, manages: hasPermission(user, 'agents.manage') });

/** The agents `viewer` may know of: those visible to everyone or to their role; every one to whoever manages agents. */
export const visibleTo = (viewer: AgentViewer) =>
  or(isNull(agents.visibleTo), sql`${viewer.role}::text = any(${agents.visibleTo})`, sql`${viewer.manages}::boolean`)!;

/** The agents listed for `viewer`, whom they may chat with: published and visible to them. */
export const listedFor = (viewer: AgentViewer) => and(eq(agents.published, true), visibleTo(viewer))!;

/**
 * The agent `id`, when `viewer` may chat with it: when it is listed for them, and always when they
 * manage agents (to try one before publishing it or showing it to a role). A condition on `agents`,
 * so that starting a chat checks it in the statement that stores the turn.
 */
export const chatableAgent = (id: string | SQLWrapper, viewer: AgentViewer) =>
  and(eq(agents.id, id), or(listedFor(viewer), sql`${viewer.manages}::boolean`))!;

export const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
