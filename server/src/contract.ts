// The API's contract as types, for the web app: `import type { … } from '@agentport/server/contract'`.
// Each is the Static type of the schema its route declares, so the web reads exactly what the server
// sends. Types only: the package exports this file under the `types` condition alone, so a value
// import from the web would not resolve and no server code can reach the web bundle.
export type {
  AgentCreate,
  AgentPatch,
  ConsoleAgent,
  ConsoleAgentList,
  CozeIntegration,
  ModelList,
  Provider,
  PublicAgent,
  PublicAgentList,
} from './agents/schemas.js';
export type { AuthConfig, AuthResponse, CurrentUser, Invite, InviteList, InviteListed, RegistrationMode, User } from './auth/schemas.js';
export type {
  ChatCompletion,
  ChunkDelta,
  CompletionChunk,
  CompletionEvent,
  CompletionStreamError,
  Conversation,
  ConversationList,
  ConversationPatch,
  Message,
  MessageError,
  MessageList,
  MessageStatus,
  StopResult,
  Usage,
} from './chat/schemas.js';
export type { CozeBot, CozeBotPage, ImportResult } from './coze/schemas.js';
export type { Attachment, FileLimits } from './files/schemas.js';
export type { Permission, Role, RoleCreate, RoleList, RolePatch } from './roles/schemas.js';
export type { ErrorResponse, Health } from './http/schemas.js';
export type { OwnUsage, QuotaStatus, Quotas, RoleQuotas, UsageCounts, UsageReport, UserQuota } from './usage/schemas.js';
export type { ConsoleUser, UserPage, UserPatch, UserStatus } from './users/schemas.js';
