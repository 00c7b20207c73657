// Quotas: messages per UTC day and tokens per UTC month, a user's own when they have them
// (user_quotas), else their role's; null is unlimited. A chat's first statement (chat/statements.ts)
// folds in the check and takes the day's message from the counter, only while the quota has one
// left: concurrent chats, on however many instances, cannot go past it. Tokens are known only once an
// answer ends, so that quota refuses the next chat once the month's tokens reached it; an answer
// already running finishes.
import { and, eq, lt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { WithSubqueryWithSelection } from 'drizzle-orm/pg-core';
import type { Db } from '../db/index.js';
import { quotaMessageCounts, roles, usageDaily, userQuotas, users } from '../db/schema.js';
import { HttpError } from '../http/errors.js';

export const TODAY = sql`(now() at time zone 'utc')::date`;
const MONTH_START = sql`date_trunc('month', now() at time zone 'utc')::date`;

/** A quota of the user `userQuotas` and `roles` were joined for: their own, when they have one, else their role's (null: unlimited). */
const ownOrRole = (own: SQLWrapper, role: SQL) => sql`case when ${userQuotas.userId} is not null then ${own} else ${role} end`;
const messagesPerDay = ownOrRole(userQuotas.messagesPerDay, sql`${roles.messagesPerDay}`);
const tokensPerMonth = ownOrRole(userQuotas.tokensPerMonth, sql`${roles.tokensPerMonth}`);

const messagesOn = (userId: SQLWrapper, day: SQL) =>
  sql`coalesce((select sum(${usageDaily.messages}) from ${usageDaily} where ${usageDaily.userId} = ${userId} and ${usageDaily.day} = ${day}), 0)`;
const tokensSince = (userId: SQLWrapper, day: SQL) =>
  sql`coalesce((select sum(${usageDaily.promptTokens} + ${usageDaily.completionTokens}) from ${usageDaily}
    where ${usageDaily.userId} = ${userId} and ${usageDaily.day} >= ${day}), 0)`;

/** The caller's quotas, as a statement part: `caller` is a CTE of one user row (id, role). */
export function callerLimits(db: Db, caller: WithSubqueryWithSelection<{ id: typeof users.id; role: typeof users.role }, string>) {
  return db.$with('limits', { id: users.id, messagesPerDay: userQuotas.messagesPerDay, tokensPerMonth: userQuotas.tokensPerMonth }).as(sql`
    select ${caller.id} as id, ${messagesPerDay} as messages_per_day, ${tokensPerMonth} as tokens_per_month
    from ${caller} left join ${userQuotas} on ${userQuotas.userId} = ${caller.id} left join ${roles} on ${roles.key} = ${caller.role}`);
}
type Limits = ReturnType<typeof callerLimits>;

/** The month's tokens are below the quota (a subquery only for a user who has one). */
const tokensLeft = (limits: Limits) =>
  sql`(${limits.tokensPerMonth} is null or ${tokensSince(limits.id, MONTH_START)} < ${limits.tokensPerMonth})`;

/**
 * Takes one of the day's messages for a user who has that quota, when `when` holds, the month's
 * tokens are below theirs, and the day has one left: a conditional upsert on the day's counter, which
 * PostgreSQL runs one at a time per user and day (a concurrent one waits and sees the count it left).
 * The day's first count starts from the messages already accounted that day (a quota set mid-day).
 * Its row, the day, when taken.
 */
export function reserveMessage(db: Db, limits: Limits, when: SQL) {
  const count = sql`${messagesOn(limits.id, TODAY)} + 1`;
  return db.$with('reserved', { day: quotaMessageCounts.day }).as(sql`
    insert into ${quotaMessageCounts} (user_id, day, messages)
    select ${limits.id}, ${TODAY}, ${count} from ${limits}
    where ${limits.messagesPerDay} is not null and ${tokensLeft(limits)} and ${when} and ${count} <= ${limits.messagesPerDay}
    on conflict (user_id, day) do update set messages = ${quotaMessageCounts.messages} + 1
      where ${quotaMessageCounts.messages} < (select ${limits.messagesPerDay} from ${limits})
    returning day`);
}

/** The chat may start: the caller has no message quota and tokens left, or took a message of the day. */
export const quotaAllows = (limits: Limits, reserved: ReturnType<typeof reserveMessage>) =>
  sql`(exists (select 1 from ${limits} where ${limits.messagesPerDay} is null and ${tokensLeft(limits)})
    or exists (select 1 from ${reserved}))`;

/** Gives back the message a chat took on `day` and did not use (it was refused for another reason). */
export async function returnMessage(db: Db, userId: string, day: string): Promise<void> {
  await db
    .update(quotaMessageCounts)
    .set({ messages: sql`${quotaMessageCounts.messages} - 1` })
    .where(and(eq(quotaMessageCounts.userId, userId), eq(quotaMessageCounts.day, day)));
}

/** Past days' counters count for nothing: they go (at start-up and hourly, see routes.ts). */
export async function pruneMessageCounts(db: Db): Promise<void> {
  await db.delete(quotaMessageCounts).where(lt(quotaMessageCounts.day, TODAY));
}

export interface QuotaStatus {
  messagesPerDay: number | null;
  tokensPerMonth: number | null;
  /** Messages taken today (UTC), tokens used this month (UTC). */
  messagesToday: number;
  tokensThisMonth: number;
  /** When each resets: the next UTC midnight, the next month's first UTC midnight. */
  messagesResetAt: string;
  tokensResetAt: string;
}

/** The user's quotas and how much of them is used. */
export async function quotaStatus(db: Db, userId: string): Promise<QuotaStatus> {
  const [row] = await db
    .select({
      messagesPerDay: sql<number | null>`${messagesPerDay}`,
      tokensPerMonth: sql<string | null>`${tokensPerMonth}`,
      counted: sql<number | null>`(select ${quotaMessageCounts.messages} from ${quotaMessageCounts}
        where ${quotaMessageCounts.userId} = ${users.id} and ${quotaMessageCounts.day} = ${TODAY})`,
      accounted: sql<string>`${messagesOn(users.id, TODAY)}`,
      tokens: sql<string>`${tokensSince(users.id, MONTH_START)}`,
      now: sql<string>`now()`,
    })
    .from(users)
    .leftJoin(userQuotas, eq(userQuotas.userId, users.id))
    .leftJoin(roles, eq(roles.key, users.role))
    .where(eq(users.id, userId));
  if (!row) throw new Error(`no user ${userId}`);
  const now = new Date(row.now);
  const nextDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return {
    messagesPerDay: row.messagesPerDay === null ? null : Number(row.messagesPerDay),
    tokensPerMonth: row.tokensPerMonth === null ? null : Number(row.tokensPerMonth),
    messagesToday: Math.max(Number(row.counted ?? 0), Number(row.accounted)),
    tokensThisMonth: Number(row.tokens),
    messagesResetAt: nextDay.toISOString(),
    tokensResetAt: nextMonth.toISOString(),
  };
}

/** The 429 for a user past a quota, or null when they are within theirs. */
export function quotaExceeded(status: QuotaStatus): HttpError | null {
  const refuse = (message: string, resetsAt: string) =>
    new HttpError(
      429,
      message,
      'quota_exceeded',
      { resetsAt },
      { 'retry-after': String(Math.max(1, Math.ceil((Date.parse(resetsAt) - Date.now()) / 1000))) },
    );
  if (status.tokensPerMonth !== null && status.tokensThisMonth >= status.tokensPerMonth)
    return refuse(
      `You have used this month's ${status.tokensPerMonth} tokens. More are available from ${status.tokensResetAt}.`,
      status.tokensResetAt,
    );
  if (status.messagesPerDay !== null && status.messagesToday >= status.messagesPerDay)
    return refuse(
      `You have sent today's ${status.messagesPerDay} messages. More are available from ${status.messagesResetAt}.`,
      status.messagesResetAt,
    );
  return null;
}
