// The Coze OpenAPI client: one import for the rest of the server.
export { readCozeConfig, oauthAudienceFor, DEFAULT_COZE_API_BASE } from './config.js';
export type { CozeAuth, CozeConfig, CozeBotListApi } from './config.js';
export {
  CozeApiError,
  CozeErrorCode,
  CozeTransportCode,
  isAbortError,
  isCozeApiError,
  userMessageFor,
} from './errors.js';
export { CozeClient, COZE_API_CONNECTOR_ID, isEndpointUnavailable, unixToIso } from './client.js';
export type { CozeBotDetail, CozeBotSummary, CozeBotVariable, CozeChatParams, CozeClientOptions } from './client.js';
export { CozeChatEventType, readCozeChatStream, toCozeChatEvent } from './stream.js';
export type {
  CozeChat,
  CozeChatEvent,
  CozeChatStatus,
  CozeLastError,
  CozeMessage,
  CozeMessageType,
  CozeToolCall,
  CozeUsage,
} from './stream.js';
export type { CozeLogger } from './http.js';
export type { IconDownloadOptions } from './icon.js';
