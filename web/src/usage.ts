// Usage and quotas: the calls, the periods a page offers, and how numbers and limits read.
import type { OwnUsage, Quotas, RoleQuotas, UsageReport, UserQuota } from '@agentport/server/contract';
import { api, apiFetch } from './api';

/** UTC days, both included, as the server takes them (YYYY-MM-DD). */
export interface Period {
  from: string;
  to: string;
}

export type PresetName = '7d' | '30d' | '90d' | 'month' | 'custom';
export const PRESETS: { name: PresetName; label: string }[] = [
  { name: '7d', label: 'Last 7 days' },
  { name: '30d', label: 'Last 30 days' },
  { name: '90d', label: 'Last 90 days' },
  { name: 'month', label: 'This month' },
  { name: 'custom', label: 'Custom…' },
];

const DAY_MS = 86_400_000;
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The preset's days up to today (UTC); `custom` keeps `current`. */
export function presetPeriod(name: PresetName, current: Period, now = Date.now()): Period {
  const today = isoDay(now);
  if (name === 'custom') return current;
  if (name === 'month') return { from: `${today.slice(0, 7)}-01`, to: today };
  const days = { '7d': 7, '30d': 30, '90d': 90 }[name];
  return { from: isoDay(now - (days - 1) * DAY_MS), to: today };
}

export const usageApi = {
  own: (period: Period) => api<OwnUsage>('/api/ai-agent/usage/me', { query: { ...period } }),
  everyone: (period: Period) => api<UsageReport>('/console/api/usage', { query: { ...period } }),
  /** The server's CSV, saved by the browser under the server's file name. */
  async downloadCsv(period: Period): Promise<void> {
    const response = await apiFetch('/console/api/usage.csv', { query: { ...period }, headers: { Accept: 'text/csv' } });
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'usage.csv';
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
  userQuota: (id: string) => api<UserQuota>(`/console/api/quotas/users/${encodeURIComponent(id)}`),
  setUserQuota: (id: string, quotas: Quotas) =>
    api<UserQuota>(`/console/api/quotas/users/${encodeURIComponent(id)}`, { method: 'PUT', body: quotas }),
  clearUserQuota: (id: string) => api<void>(`/console/api/quotas/users/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  setRoleQuota: (key: string, quotas: Quotas) =>
    api<RoleQuotas>(`/console/api/quotas/roles/${encodeURIComponent(key)}`, { method: 'PUT', body: quotas }),
};

export const formatCount = (n: number) => n.toLocaleString();
export const limitText = (limit: number | null) => (limit === null ? 'unlimited' : formatCount(limit));
/** A reset time in the reader's own time zone. */
export const resetText = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A quota field's text as a limit: empty is unlimited (null); otherwise a whole number ≥ 0, or undefined when it is not one. */
export function parseLimit(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (!trimmed) return null;
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}
