// Usage over a period, from usage_daily: the console's report (everyone), a user's own, and the CSV.
import { and, asc, between, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { agents, usageDaily, users } from '../db/schema.js';
import { HttpError } from '../http/errors.js';
import type { UsageCounts } from './schemas.js';

/** Days, both included, as YYYY-MM-DD (UTC). */
export interface Period {
  from: string;
  to: string;
}

const MAX_DAYS = 366;
const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;
/** Users the console's report lists (most tokens first); the CSV has every one. */
const REPORT_USERS = 100;
/** Rows a CSV may hold (days × users × agents); a longer one asks for a shorter period. */
const MAX_CSV_ROWS = 100_000;

const invalidPeriod = (message: string) => new HttpError(400, message, 'invalid_period');
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

function parseDay(name: string, value: string): number {
  const time = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  // Date.parse rolls 2026-02-30 over to March: a day that does not round-trip does not exist.
  if (Number.isNaN(time) || isoDay(time) !== value) throw invalidPeriod(`${name} must be a day written YYYY-MM-DD, such as 2026-01-31`);
  return time;
}

/** The period ?from=&to= names: by default the 30 days to today; at most 366 days. */
export function parsePeriod(query: { from?: string | undefined; to?: string | undefined }, now = Date.now()): Period {
  const to = query.to === undefined ? Date.parse(`${isoDay(now)}T00:00:00Z`) : parseDay('to', query.to);
  const from = query.from === undefined ? to - (DEFAULT_DAYS - 1) * DAY_MS : parseDay('from', query.from);
  if (from > to) throw invalidPeriod(`The period starts (${isoDay(from)}) after it ends (${isoDay(to)})`);
  const days = (to - from) / DAY_MS + 1;
  if (days > MAX_DAYS) throw invalidPeriod(`The period spans ${days} days; choose at most ${MAX_DAYS}`);
  return { from: isoDay(from), to: isoDay(to) };
}

const sums = {
  messages: sql<string>`sum(${usageDaily.messages})`,
  promptTokens: sql<string>`sum(${usageDaily.promptTokens})`,
  completionTokens: sql<string>`sum(${usageDaily.completionTokens})`,
};
const mostTokens = desc(sql`sum(${usageDaily.promptTokens} + ${usageDaily.completionTokens})`);

/** Sums come back as text (bigint): numbers for the JSON. */
const counts = (row: { messages: string; promptTokens: string; completionTokens: string }): UsageCounts => ({
  messages: Number(row.messages),
  promptTokens: Number(row.promptTokens),
  completionTokens: Number(row.completionTokens),
});

function within(period: Period, userId?: string): SQL {
  return and(between(usageDaily.day, period.from, period.to), userId ? eq(usageDaily.userId, userId) : undefined)!;
}

/** The period's days (each one), its agents and its totals; everyone's, or one user's. */
export async function usageReport(db: Db, period: Period, userId?: string) {
  const where = within(period, userId);
  const [dayRows, agentRows] = await Promise.all([
    db
      .select({ day: usageDaily.day, ...sums })
      .from(usageDaily)
      .where(where)
      .groupBy(usageDaily.day),
    db
      .select({ agentId: usageDaily.agentId, agentName: agents.name, ...sums })
      .from(usageDaily)
      .leftJoin(agents, eq(agents.id, usageDaily.agentId))
      .where(where)
      .groupBy(usageDaily.agentId, agents.name)
      .orderBy(mostTokens, asc(agents.name)),
  ]);
  const byDay = new Map(dayRows.map((row) => [row.day, counts(row)]));
  const days = [];
  for (let time = Date.parse(`${period.from}T00:00:00Z`); isoDay(time) <= period.to; time += DAY_MS) {
    const day = isoDay(time);
    days.push({ day, ...(byDay.get(day) ?? { messages: 0, promptTokens: 0, completionTokens: 0 }) });
  }
  const totals = days.reduce(
    (sum, day) => ({
      messages: sum.messages + day.messages,
      promptTokens: sum.promptTokens + day.promptTokens,
      completionTokens: sum.completionTokens + day.completionTokens,
    }),
    { messages: 0, promptTokens: 0, completionTokens: 0 },
  );
  return {
    ...period,
    totals,
    days,
    agents: agentRows.map((row) => ({ agentId: row.agentId, agentName: row.agentName, ...counts(row) })),
  };
}

/** The users who used most tokens in the period. */
export async function usageByUser(db: Db, period: Period) {
  const rows = await db
    .select({ userId: users.id, email: users.email, name: users.name, ...sums })
    .from(usageDaily)
    .innerJoin(users, eq(users.id, usageDaily.userId))
    .where(within(period))
    .groupBy(users.id)
    .orderBy(mostTokens, asc(users.email))
    .limit(REPORT_USERS);
  return rows.map((row) => ({ userId: row.userId, email: row.email, name: row.name, ...counts(row) }));
}

/**
 * A CSV cell: quoted when it holds a quote, comma or line break; text that a spreadsheet would run
 * as a formula (starting with = + - @, or a tab or carriage return) is prefixed with ' so it stays text.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const CSV_HEADER = ['day', 'user_email', 'user_name', 'agent_id', 'agent_name', 'messages', 'prompt_tokens', 'completion_tokens'];

/** The period's usage per day, user and agent, as CSV (RFC 4180, with a BOM so spreadsheets read UTF-8). */
export async function usageCsv(db: Db, period: Period): Promise<string> {
  const rows = await db
    .select({
      day: usageDaily.day,
      email: users.email,
      name: users.name,
      agentId: usageDaily.agentId,
      agentName: agents.name,
      messages: usageDaily.messages,
      promptTokens: usageDaily.promptTokens,
      completionTokens: usageDaily.completionTokens,
    })
    .from(usageDaily)
    .innerJoin(users, eq(users.id, usageDaily.userId))
    .leftJoin(agents, eq(agents.id, usageDaily.agentId))
    .where(within(period))
    .orderBy(asc(usageDaily.day), asc(users.email), asc(agents.name), asc(usageDaily.agentId))
    .limit(MAX_CSV_ROWS + 1);
  if (rows.length > MAX_CSV_ROWS)
    throw new HttpError(400, `The period holds more than ${MAX_CSV_ROWS} rows of usage: export a shorter one`, 'period_too_large');
  const lines = [CSV_HEADER.join(',')];
  for (const row of rows) {
    const cells = [row.day, row.email, row.name, row.agentId, row.agentName ?? '', row.messages, row.promptTokens, row.completionTokens];
    lines.push(cells.map(csvCell).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
