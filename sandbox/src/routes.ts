// Every path the sandbox answers, in one table: which auth it needs and who handles it.
import type { Handler } from './context.js';
import { checkCozeAuth, exchangeJwt } from './coze/auth.js';
import { botDetail, listBots, publishedBotsList } from './coze/bots-api.js';
import { cancel, messageList, retrieve, startChat } from './coze/chat.js';
import * as conversations from './coze/conversations.js';
import { uploadFile } from './coze/files.js';
import { serveIcon } from './coze/icons.js';
import { chatCompletions, checkOpenAiAuth, listModels } from './openai.js';

export type Auth = 'coze' | 'openai' | 'none';

export interface Route {
  methods: readonly string[];
  pattern: RegExp;
  auth: Auth;
  handler: Handler;
}

const route = (methods: string | readonly string[], pattern: RegExp, auth: Auth, handler: Handler): Route => ({
  methods: typeof methods === 'string' ? [methods] : methods,
  pattern,
  auth,
  handler,
});

const GET_OR_POST = ['GET', 'POST'] as const;

export const ROUTES: readonly Route[] = [
  route('POST', /^\/api\/permission\/oauth2\/token$/, 'none', exchangeJwt),
  route('GET', /^\/v1\/space\/published_bots_list$/, 'coze', publishedBotsList),
  route('GET', /^\/v1\/bots$/, 'coze', listBots),
  route('GET', /^\/v1\/bots\/([^/]+)$/, 'coze', botDetail),
  route('GET', /^\/v1\/bot\/get_online_info$/, 'coze', botDetail),
  route('POST', /^\/v1\/conversation\/create$/, 'coze', conversations.create),
  route(GET_OR_POST, /^\/v1\/conversation\/retrieve$/, 'coze', conversations.retrieve),
  route('POST', /^\/v1\/conversations\/([^/]+)\/clear$/, 'coze', conversations.clear),
  route('POST', /^\/v1\/files\/upload$/, 'coze', uploadFile),
  route('POST', /^\/v3\/chat$/, 'coze', startChat),
  route('POST', /^\/v3\/chat\/cancel$/, 'coze', cancel),
  route(GET_OR_POST, /^\/v3\/chat\/retrieve$/, 'coze', retrieve),
  route(GET_OR_POST, /^\/v3\/chat\/message\/list$/, 'coze', messageList),
  route('GET', /^\/icons\/([^/]+)\.png$/, 'none', serveIcon),
  route('POST', /^\/openai\/v1\/chat\/completions$/, 'openai', chatCompletions),
  route('GET', /^\/openai\/v1\/models$/, 'openai', listModels),
];

export const AUTH_CHECKS = { coze: checkCozeAuth, openai: checkOpenAiAuth, none: () => true } as const;
