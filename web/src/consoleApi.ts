// Console endpoints, typed. Errors surface as ApiError with the server's message.
import { api } from './api';
import type {
  AgentCreate,
  AgentPatch,
  ConsoleAgent,
  ConsoleAgentList,
  ConsoleUser,
  CozeBotPage,
  ImportResult,
  Role,
  RoleCreate,
  RoleList,
  RolePatch,
  UserPage,
  UserPatch,
} from '@agentport/server/contract';

const base = '/console/api/ai-agent';
const one = (id: string) => `${base}/${encodeURIComponent(id)}`;
const roles = '/console/api/roles';
const role = (key: string) => `${roles}/${encodeURIComponent(key)}`;

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
  listRoles: () => api<RoleList>(roles),
  createRole: (input: RoleCreate) => api<Role>(roles, { method: 'POST', body: input }),
  updateRole: (key: string, patch: RolePatch) => api<Role>(role(key), { method: 'PATCH', body: patch }),
  deleteRole: (key: string) => api<void>(role(key), { method: 'DELETE' }),
};
