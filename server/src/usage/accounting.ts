// Usage accounting: what every answer used, added to usage_daily by the statement that saves the
// answer (statements.ts, saveAnswer), never by a write of its own.
import { sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { usageDaily, users } from '../db/schema.js';

const param = sql.placeholder;

/** A UTC day of a timestamp. */
export const utcDay = (at: SQLWrapper) => sql`(${at} at time zone 'utc')::date`;

/**
 * Adds one answer to its user's usage with its agent, on the UTC day `startedAt` (the day its chat
 * started, which is the day its message was reserved against the quota). Parameters: userId,
 * agentId, promptTokens, completionTokens. Nothing is added for a user deleted meanwhile.
 */
export function addAnswerUsage(db: Pick<Db, 'insert'>, startedAt: SQLWrapper) {
  return db
    .insert(usageDaily)
    .select(
      sql`select ${param('userId')}::uuid, ${param('agentId')}::uuid, ${utcDay(startedAt)}, 1,
          ${param('promptTokens')}::bigint, ${param('completionTokens')}::bigint
        where exists (select 1 from ${users} where ${users.id} = ${param('userId')}::uuid)`,
    )
    .onConflictDoUpdate({
      target: [usageDaily.userId, usageDaily.day, usageDaily.agentId],
      set: {
        messages: sql`${usageDaily.messages} + excluded.messages`,
        promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
        completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
      },
    });
}
