// What the usage and quota routes take and answer, as schemas (for the routes) and types (for the web
// app, via ../contract.ts).
import { Type, type Static } from 'typebox';

/** ?from=&to=: the period, UTC days, both included (unset: the 30 days to today). */
export const PeriodQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 20 })),
  to: Type.Optional(Type.String({ maxLength: 20 })),
});

const Counts = {
  messages: Type.Integer(),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
};
export const UsageCounts = Type.Object(Counts);
export type UsageCounts = Static<typeof UsageCounts>;

const DayUsage = Type.Object({ day: Type.String(), ...Counts });
const AgentUsage = Type.Object({
  agentId: Type.String(),
  /** Null once the agent was deleted (its usage stays). */
  agentName: Type.Union([Type.String(), Type.Null()]),
  ...Counts,
});
const UserUsage = Type.Object({ userId: Type.String(), email: Type.String(), name: Type.String(), ...Counts });

const Report = {
  from: Type.String(),
  to: Type.String(),
  totals: UsageCounts,
  /** Every day of the period, in order (days without usage too). */
  days: Type.Array(DayUsage),
  /** Most tokens first. */
  agents: Type.Array(AgentUsage),
};

/** GET /console/api/usage: everyone's usage. `users`: the 100 who used most tokens (the CSV has all). */
export const UsageReport = Type.Object({ ...Report, users: Type.Array(UserUsage) });
export type UsageReport = Static<typeof UsageReport>;

const Limit = Type.Union([Type.Integer({ minimum: 0, maximum: 2_000_000_000 }), Type.Null()]);
const BigLimit = Type.Union([Type.Integer({ minimum: 0, maximum: 1e15 }), Type.Null()]);

/** A user's quotas (null: unlimited), what they used of them, and when each resets. */
export const QuotaStatus = Type.Object({
  messagesPerDay: Limit,
  tokensPerMonth: BigLimit,
  messagesToday: Type.Integer(),
  tokensThisMonth: Type.Integer(),
  messagesResetAt: Type.String(),
  tokensResetAt: Type.String(),
});
export type QuotaStatus = Static<typeof QuotaStatus>;

/** GET /api/ai-agent/usage/me: the caller's own usage, and their quotas. */
export const OwnUsage = Type.Object({ ...Report, quota: QuotaStatus });
export type OwnUsage = Static<typeof OwnUsage>;

/** Quotas: messages per UTC day, tokens per UTC month; null is unlimited. */
export const Quotas = Type.Object({ messagesPerDay: Limit, tokensPerMonth: BigLimit });
export type Quotas = Static<typeof Quotas>;

/** PUT /console/api/quotas/roles/:key: the role's quotas, as stored. */
export const RoleQuotas = Type.Object({ key: Type.String(), ...Quotas.properties });
export type RoleQuotas = Static<typeof RoleQuotas>;

/** GET, PUT /console/api/quotas/users/:id: a user's own quotas (null: their role's apply). */
export const UserQuota = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.String(), name: Type.String(), role: Type.String() }),
  own: Type.Union([Quotas, Type.Null()]),
  status: QuotaStatus,
});
export type UserQuota = Static<typeof UserQuota>;
