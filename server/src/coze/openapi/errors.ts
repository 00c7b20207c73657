// Errors of the Coze client. Every failure of a Coze call — an error body from Coze, a bad HTTP
// status, a dropped connection, a time-out — surfaces as one CozeApiError carrying Coze's code, its
// message, the HTTP status, the `x-tt-logid` (what Coze support asks for) and a text safe to show a
// user. No error built here ever contains a credential: Coze's own message is scrubbed of anything
// that looks like a token before it is stored.
import { redactSecrets } from '../../http/redact.js';

/** Codes for failures that never reached a Coze answer. Coze's own codes are positive. */
export const CozeTransportCode = {
  /** Could not connect, or the connection broke before a response arrived. */
  Network: -1,
  /** No response headers within the connect time-out, or silence longer than the idle time-out. */
  Timeout: -2,
  /** The chat stream ended (or broke) before a terminal event: completed, failed, error or done. */
  StreamEndedEarly: -3,
  /** A response Coze would never send: not JSON where JSON was due, an HTTP error without a body, … */
  BadResponse: -4,
  /** The OAuth JWT exchange was refused (`{error_code, error_message}`). */
  OAuthFailed: -5,
  /** A chat stream's event (or a line without end) was larger than the client reads. */
  EventTooLarge: -6,
} as const;

/** Coze's documented error codes (docs/coze-openapi.md §6). */
export const CozeErrorCode = {
  BadParameters: 4000,
  AuthInvalid: 4100,
  PermissionDenied: 4101,
  NotFound: 4200,
  RateLimited: 4013,
  BotNotPublished: 4015,
  ConversationBusy: 4016,
  CannotCancel: 4104,
  OverduePayment: 4011,
  ServerError: 5000,
} as const;

const USER_MESSAGES: Record<number, string> = {
  4000: 'Coze rejected the request parameters.',
  4100:
    'Coze rejected the credentials: the token is invalid, expired, or belongs to the other region. ' +
    'Check COZE_API_TOKEN (or the COZE_OAUTH_* settings) and that COZE_API_BASE matches its region ' +
    '(https://api.coze.cn or https://api.coze.com).',
  4101: 'The Coze token lacks permission for this bot or workspace. Grant the token access to it in Coze.',
  4200: 'Coze could not find this resource (bot, conversation or workspace). It may have been deleted.',
  4013: 'Coze is rate-limiting requests. Please wait a moment and try again.',
  4015: 'This Coze bot is not published to the API channel. Publish it as an API service in Coze, then try again.',
  4016: 'This conversation already has a reply in progress. Wait for it to finish, then try again.',
  4104: 'This Coze chat can no longer be cancelled: it has already finished.',
  4011: 'The Coze account has an overdue payment. Settle it in Coze to continue.',
  5000: 'Coze had an internal error. Please try again.',
  [CozeTransportCode.Network]: 'Could not reach Coze. Check the network and COZE_API_BASE.',
  [CozeTransportCode.Timeout]: 'Coze did not answer in time. Please try again.',
  [CozeTransportCode.StreamEndedEarly]: 'The connection to Coze ended before the reply was complete. Please try again.',
  [CozeTransportCode.BadResponse]: 'Coze sent an unexpected response. Please try again later.',
  [CozeTransportCode.EventTooLarge]: 'Coze sent a piece of the reply too large for this server to read, so the reply was cut off there.',
  [CozeTransportCode.OAuthFailed]:
    'Coze refused the OAuth app credentials. Check COZE_OAUTH_APP_ID, COZE_OAUTH_KEY_ID, the private key, ' +
    'and that COZE_API_BASE matches the app’s region.',
};

const RETRYABLE_CODES = new Set<number>([4013, 5000, CozeTransportCode.Network, CozeTransportCode.Timeout]);

/** User-safe text for a Coze or transport code. */
export function userMessageFor(code: number, httpStatus: number | null = null): string {
  if ((code === 0 || code === CozeTransportCode.BadResponse) && httpStatus !== null && (httpStatus < 200 || httpStatus >= 300)) {
    return `Coze answered with HTTP ${httpStatus}. Please try again later.`;
  }
  const known = USER_MESSAGES[code];
  if (known) return known;
  return `Coze returned error ${code}. Please try again later.`;
}

export interface CozeApiErrorInit {
  code: number;
  cozeMsg?: string;
  httpStatus?: number | null;
  logId?: string | null;
  /** Defaults to: 4013, 5000, any 5xx, network errors and time-outs. The caller may know better (chats). */
  retryable?: boolean;
  cause?: unknown;
}

export class CozeApiError extends Error {
  override name = 'CozeApiError';
  /** Coze's code, or a negative CozeTransportCode. */
  code: number;
  /** Coze's own message (scrubbed of token-like strings); for transport failures, what went wrong. */
  cozeMsg: string;
  httpStatus: number | null;
  /** The `x-tt-logid` response header (or body `detail.logid`), when a response arrived. */
  logId: string | null;
  /** Safe to show an end user. */
  userMessage: string;
  retryable: boolean;

  constructor(init: CozeApiErrorInit) {
    const cozeMsg = redactSecrets(init.cozeMsg ?? '');
    const httpStatus = init.httpStatus ?? null;
    const logId = init.logId ?? null;
    const parts = [`Coze API error ${init.code}`];
    if (cozeMsg) parts[0] += `: ${cozeMsg}`;
    if (httpStatus !== null) parts.push(`HTTP ${httpStatus}`);
    if (logId) parts.push(`logid ${logId}`);
    super(
      parts.length > 1 ? `${parts[0]} (${parts.slice(1).join(', ')})` : parts[0],
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.code = init.code;
    this.cozeMsg = cozeMsg;
    this.httpStatus = httpStatus;
    this.logId = logId;
    this.userMessage = userMessageFor(init.code, httpStatus);
    this.retryable =
      init.retryable ?? (RETRYABLE_CODES.has(init.code) || (httpStatus !== null && (httpStatus >= 500 || httpStatus === 429)));
  }

  /** A Coze error body `{code, msg, detail:{logid}}`; the header logid wins over the body's. */
  static fromBody(
    body: { code: number; msg?: unknown; detail?: unknown },
    httpStatus: number | null,
    headerLogId: string | null,
  ): CozeApiError {
    const detail = body.detail as { logid?: unknown } | undefined;
    const bodyLogId = typeof detail?.logid === 'string' && detail.logid ? detail.logid : null;
    return new CozeApiError({
      code: body.code,
      cozeMsg: typeof body.msg === 'string' ? body.msg : '',
      httpStatus,
      logId: headerLogId ?? bodyLogId,
    });
  }
}

export function isCozeApiError(err: unknown): err is CozeApiError {
  return err instanceof CozeApiError;
}

/** True for the error an aborted fetch/stream rejects with (a DOMException or Error named AbortError). */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}
