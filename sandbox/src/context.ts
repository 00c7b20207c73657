// What every route handler gets: the request, its parsed parts, and the sandbox's shared state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Conversation, ChatRun } from './coze/chat-state.js';
import type { UploadedFile } from './coze/files.js';
import type { TickerPool } from './ticker.js';

export interface OAuthApp {
  appId: string;
  keyId: string;
  publicKeyPem: string;
}

export interface SandboxCore {
  url: string;
  token: string;
  spaceId: string;
  oauthApp?: OAuthApp;
  /** OAuth access tokens issued by the JWT exchange → absolute expiry (unix seconds). */
  accessTokens: Map<string, number>;
  /** JWT ids already exchanged: a JWT is single-use. */
  seenJtis: Set<string>;
  /** Key that signs icon URLs. */
  iconSecret: Buffer;
  conversations: Map<string, Conversation>;
  /** Last user messages with `[flaky]` already failed once: the next time they are answered. */
  flakyFailed: Set<string>;
  chats: Map<string, ChatRun>;
  /** Files uploaded with POST /v1/files/upload, by id. */
  files: Map<string, UploadedFile>;
  tickers: TickerPool;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The body was sent as JSON but did not parse. */
  malformed: boolean;
  logid: string;
  /** Capture groups of the route's path pattern. */
  params: string[];
  core: SandboxCore;
}

export type Handler = (ctx: RequestContext) => void | Promise<void>;
