// What a person reads when something fails. The server's messages are written for developers and
// operators (validation paths, ids, the upstream's HTTP status, which setting to fix); the page shows
// a sentence about what happened and what to do instead. Codes, not message texts, pick the sentence.
import type { ErrorResponse, MessageError } from '@agentport/server/contract';

const TRY_AGAIN = 'Something went wrong. Please try again.';

/**
 * An HTTP error from the server: `message` is the sentence to show (see apiErrorText); `body` keeps
 * the server's one error shape (or nothing of it when something in between answered, a proxy's page).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly body: Partial<ErrorResponse>;

  constructor(status: number, body: Partial<ErrorResponse>) {
    const code = typeof body.code === 'string' ? body.code : undefined;
    super(
      code === 'quota_exceeded'
        ? quotaText(body.resetsAt)
        : apiErrorText(status, code, typeof body.message === 'string' ? body.message : ''),
    );
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    this.code = code;
  }
}

/**
 * Codes whose server message is already a plain sentence for the person who acted (a new route's
 * code goes here when its message is; any other shows the sentence for its status).
 */
const SERVER_WORDED = new Set([
  'invalid_credentials',
  'account_disabled',
  'cannot_disable_self',
  'last_user_manager',
  'unknown_role',
  'registration_closed',
  'invite_required',
  'invalid_invite',
  'rate_limited',
  'conflict',
  'conversation_busy',
  'agent_unavailable',
  'invalid_search',
  'invalid_title',
  'empty_message',
  'message_too_long',
  'prompt_read_only',
  'model_read_only',
  'not_coze',
  'coze_not_configured',
  'forbidden',
  'invalid_role',
  'built_in_role',
  'role_in_use',
  'file_too_large',
  'unsupported_file_type',
  'no_file',
  'too_many_files',
  'file_not_accepted',
  'unknown_role',
]);

/** The sentence for an API error, from its status and code; `serverMessage` only where it is meant for people. */
export function apiErrorText(status: number, code: string | undefined, serverMessage: string): string {
  if (code && serverMessage && SERVER_WORDED.has(code)) return serverMessage;
  // Coze's failures come worded for the admin who imports bots, except where they only name a status.
  if (code?.startsWith('coze_') && serverMessage && !/\b(HTTP|error) \d+/.test(serverMessage)) return serverMessage;
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'You do not have permission to do this.';
  if (status === 404) return 'This could not be found. It may have been deleted.';
  if (status === 408 || status === 504) return 'The server took too long to answer. Please try again.';
  if (status === 413) return 'This is too large to send.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status === 502 || status === 503) return 'The service is unavailable right now. Please try again in a moment.';
  if (status >= 500) return 'Something went wrong on the server. Please try again in a moment.';
  if (status >= 400) return 'This request was not accepted. Check what you entered and try again.';
  return TRY_AGAIN;
}

/** A chat past the user's quota: when they may chat again, in their own time. */
function quotaText(resetsAt: unknown): string {
  const reset = typeof resetsAt === 'string' ? new Date(resetsAt) : null;
  const when =
    reset && !Number.isNaN(reset.getTime())
      ? ` You can chat again from ${reset.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}.`
      : '';
  return `You have reached your usage limit.${when} Your usage page shows what you have used.`;
}

/** A readable sentence for anything thrown. Errors made in the page itself are worded already. */
export function humanError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return TRY_AGAIN;
}

const AGENT_UNAVAILABLE = 'The agent could not answer just now. Please try again.';
const AGENT_MISCONFIGURED = 'This agent is not set up correctly right now. Please tell your administrator.';

/** Stream error codes (server/src/chat) and the sentences a chat shows for them. */
const ANSWER_ERRORS: Record<string, string> = {
  shutdown: 'The server restarted while answering. Please send your message again.',
  client_stalled: 'The answer was cut off because the connection stalled. The text that arrived is kept.',
  answer_too_long: 'The answer grew too long and was cut off.',
  answer_timeout: 'The answer took too long and was cut off. The text that arrived is kept.',
  interrupted: 'The answer was interrupted because the server handling it stopped. Please try again.',
  deleted: 'This conversation was deleted.',
  incomplete: 'The answer ended unexpectedly. Please try again.',
  upstream_incomplete: 'The answer was cut off before it finished. Please try again.',
  upstream_line_too_long: 'The answer was cut off before it finished. Please try again.',
  coze_event_too_large: 'The answer was cut off before it finished. Please try again.',
  upstream_timeout: 'The agent took too long to answer. Please try again.',
  coze_4013: 'The agent is busy with too many requests. Please wait a moment and try again.',
  coze_4016: 'This conversation already has an answer in progress. Wait for it to finish, then try again.',
  not_configured: AGENT_MISCONFIGURED,
  coze_not_configured: AGENT_MISCONFIGURED,
  coze_requires_action: AGENT_MISCONFIGURED,
  coze_4100: AGENT_MISCONFIGURED,
  coze_4101: AGENT_MISCONFIGURED,
  coze_4015: AGENT_MISCONFIGURED,
  coze_4011: AGENT_MISCONFIGURED,
  'coze_-5': AGENT_MISCONFIGURED,
};

/** The sentence under an answer that failed. `request_failed` carries a sentence made by humanError. */
export function answerErrorText(error: Pick<MessageError, 'code' | 'message'>): string {
  const code = error.code ?? '';
  if (code === 'request_failed' && error.message) return error.message;
  // Coze refused a file of the message: the server's sentence names the file and why.
  if (code.startsWith('coze_upload_') && error.message) return error.message;
  return ANSWER_ERRORS[code] ?? AGENT_UNAVAILABLE;
}
