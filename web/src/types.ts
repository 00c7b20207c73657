// Shapes of the server's JSON, as the web app reads them.

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface AuthResponse {
  token: string;
  user: User;
}

/** Who may create an account (GET /api/auth/config): anyone, holders of an invite code, or no one. */
export type RegistrationMode = 'open' | 'invite' | 'closed';

/** A published agent as every user sees it (no provider details on purpose). */
export interface PublicAgent {
  id: string;
  name: string;
  description: string;
  avatar: string | null;
  openingStatement: string;
  openingQuestions: string[];
}

export type Provider = 'native' | 'coze';

export interface CozeIntegration {
  botId: string;
  spaceId: string;
  syncedAt: string;
  /** Default custom_variables sent with every chat (fill `{{vars}}` in the bot's prompt). */
  customVariables?: Record<string, string>;
}

/** An agent as an admin manages it in the console. */
export interface Agent extends PublicAgent {
  provider: Provider;
  model: string;
  prompt: string;
  published: boolean;
  thirdPartyIntegration: { coze?: CozeIntegration } | null;
  createdAt: string;
  updatedAt: string;
}

export interface AgentInput {
  name: string;
  description: string;
  avatar: string | null;
  model: string;
  prompt: string;
  openingStatement: string;
  openingQuestions: string[];
  published: boolean;
  /** Coze agents only. */
  customVariables: Record<string, string>;
}

export interface Conversation {
  id: string;
  agentId: string;
  title: string;
  /** An answer is streaming in it (on any instance, from any tab). */
  answering: boolean;
  createdAt: string;
  updatedAt: string;
}

export type MessageStatus = 'streaming' | 'completed' | 'failed' | 'canceled';

export interface MessageError {
  message: string;
  type: string;
  code: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Message {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  reasoningContent: string;
  status: MessageStatus;
  error: MessageError | null;
  usage: Usage | null;
  suggestions: string[];
  createdAt: string;
}

/** One `data:` payload of the chat completion stream. */
export interface CompletionChunk {
  id?: string;
  conversation_id?: string;
  message_id?: string;
  choices?: Array<{
    index: number;
    delta: { role?: string; content?: string; reasoning_content?: string };
    finish_reason: string | null;
  }>;
  usage?: Usage | null;
  suggestions?: string[];
  status?: 'completed' | 'canceled';
  /** The agent runs steps the user does not see (tools, knowledge) until the next text. */
  activity?: 'working';
  error?: MessageError;
}

export interface CozeBot {
  botId: string;
  name: string;
  description: string;
  iconUrl: string;
  publishedAt: string | null;
  imported: boolean;
  agentId: string | null;
}

export interface CozeBotPage {
  items: CozeBot[];
  total: number;
  page: number;
  pageSize: number;
}

export interface ImportResult {
  agent: Agent;
  avatarError?: string;
}
