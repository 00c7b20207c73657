// Validating the messages a caller sends (additional_messages, conversation/create messages).
import { isRecord } from '../http.js';
import type { StoredMessage } from './chat-state.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** At most 100 messages of {role, type?, content, content_type}; object_string content must be a JSON array string. */
export function parseMessages(raw: unknown, field: string): Parsed<StoredMessage[]> {
  if (raw === undefined || raw === null) return { ok: true, value: [] };
  if (!Array.isArray(raw)) return { ok: false, error: `${field} must be an array` };
  if (raw.length > 100) return { ok: false, error: `${field} can hold at most 100 messages` };
  const value: StoredMessage[] = [];
  for (const item of raw) {
    if (!isRecord(item) || (item.role !== 'user' && item.role !== 'assistant')) {
      return { ok: false, error: `${field}: each message needs role "user" or "assistant"` };
    }
    const content = typeof item.content === 'string' ? item.content : '';
    const contentType = typeof item.content_type === 'string' ? item.content_type : 'text';
    const text = contentType === 'object_string' ? objectStringText(content) : content;
    if (text === undefined) return { ok: false, error: `${field}: object_string content must be a JSON array` };
    const type = typeof item.type === 'string' ? item.type : item.role === 'user' ? 'question' : 'answer';
    value.push({ role: item.role, type, content, contentType, text });
  }
  return { ok: true, value };
}

/** The text item of an object_string message ('' when it has none), or undefined if malformed. */
function objectStringText(content: string): string | undefined {
  try {
    const items: unknown = JSON.parse(content);
    if (!Array.isArray(items)) return undefined;
    const text = items.find((i): i is { text: string } => isRecord(i) && i.type === 'text' && typeof i.text === 'string');
    return text?.text ?? '';
  } catch {
    return undefined;
  }
}

/** custom_variables / meta_data: a map of strings (non-string values are dropped). */
export function stringMap(raw: unknown): Record<string, string> {
  if (!isRecord(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
