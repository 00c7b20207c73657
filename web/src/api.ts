// The one fetch wrapper: adds the bearer token, turns error bodies into ApiError (worded for people
// by errors.ts), and hands a 401 to whoever registered for it (useAuth logs out and goes to /login).
// Uploads go through apiUpload, the same rules over XMLHttpRequest: fetch reports no upload progress.
import type { ErrorResponse } from '@agentport/server/contract';
import { ApiError, humanError } from './errors';

export { ApiError };

const TOKEN_KEY = 'agentport.token';

let token: string | null = readStoredToken();
let onUnauthorized: ((error: ApiError) => void) | null = null;

function readStoredToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  return token;
}

export function setToken(value: string | null): void {
  token = value;
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be unavailable (private mode); the session then lasts as long as the tab.
  }
}

export function setUnauthorizedHandler(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function parseErrorBody(text: string): Partial<ErrorResponse> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as Partial<ErrorResponse>;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the status alone picks the sentence.
  }
  return {};
}

async function readError(response: Response): Promise<ApiError> {
  return new ApiError(response.status, parseErrorBody(await response.text().catch(() => '')));
}

const UNREACHABLE = 'Could not reach the server. Check your connection and try again.';

/** A 401 on a request that carried a token means the session is gone (see apiFetch). */
function reportUnauthorized(error: ApiError, sentToken: string | null): void {
  if (error.status === 401 && sentToken && sentToken === token) onUnauthorized?.(error);
}

/**
 * Sends a request and returns the raw Response when it succeeded (2xx); throws ApiError otherwise.
 * Used directly for streams; `api()` builds on it for JSON.
 */
export async function apiFetch(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const sentToken = token;
  if (sentToken) headers.Authorization = `Bearer ${sentToken}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new Error(UNREACHABLE);
  }
  if (response.ok) return response;
  const error = await readError(response);
  // A 401 from the login form itself (no token) is just "wrong credentials" and stays with the form.
  reportUnauthorized(error, sentToken);
  throw error;
}

/**
 * Posts `form` (multipart) and returns the parsed JSON answer, calling `onProgress` with the share
 * of the body sent (0 to 1) as it goes. Fails as apiFetch does; an abort rejects with an AbortError.
 */
export function apiUpload<T>(path: string, form: FormData, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('The upload was canceled.', 'AbortError'));
    const xhr = new XMLHttpRequest();
    const sentToken = token;
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (sentToken) xhr.setRequestHeader('Authorization', `Bearer ${sentToken}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          reject(new Error('The server sent an answer that could not be read. Please try again.'));
        }
        return;
      }
      const error = new ApiError(xhr.status, parseErrorBody(xhr.responseText));
      reportUnauthorized(error, sentToken);
      reject(error);
    };
    xhr.onerror = () => reject(new Error(UNREACHABLE));
    xhr.onabort = () => reject(new DOMException('The upload was canceled.', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** Sends a JSON request and returns the parsed JSON body (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiFetch(path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A readable sentence for anything thrown (see errors.ts). */
export const errorMessage = humanError;
