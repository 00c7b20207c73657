// Admin console endpoints, typed. Errors surface as ApiError with the server's message.
import { api } from './api';
import type {
  AgentCreate,
  AgentPatch,
  ConsoleAgent,
  ConsoleAgentList,
  ConsoleUser,
  CozeBotPage,
  ImportResult,
  RoleList,
  UserPage,
  UserPatch,
} from '@agentport/server/contract';

const base = '/console/api/ai-agent';
const one = (id: string) => `${base}/${encodeURIComponent(id)}`;

export const consoleApi = {
  listAgents: async () => (await api<ConsoleAgentList>(base)).items,
  createAgent: (input: AgentCreate) => api<ConsoleAgent>(base, { method: 'POST', body: input }),
  updateAgent: (id: string, patch: AgentPatch) => api<ConsoleAgent>(one(id), { method: 'PATCH', body: patch }),
  deleteAgent: (id: string) => api<void>(one(id), { method: 'DELETE' }),
  syncAgent: (id: string) => api<ImportResult>(`${one(id)}/sync`, { method: 'POST' }),
  listCozeBots: (query: { page: number; pageSize: number; keyword?: string }, signal?: AbortSignal) =>
    api<CozeBotPage>(`${base}/coze/list`, { query, signal }),
  importCozeBot: (cozeBotId: string) => api<ImportResult>(`${base}/import/coze`, { method: 'POST', body: { cozeBotId } }),
  listUsers: (query: { q?: string; page: number; pageSize: number }, signal?: AbortSignal) =>
    api<UserPage>('/console/api/users', { query, signal }),
  updateUser: (id: string, patch: UserPatch) =>
    api<ConsoleUser>(`/console/api/users/${encodeURIComponent(id)}`, { method: 'PATCH', body: patch }),
  listRoles: async () => (await api<RoleList>('/console/api/roles')).items,
};
