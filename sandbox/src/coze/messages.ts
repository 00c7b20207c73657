// Validating the messages a caller sends (additional_messages, conversation/create messages).
import { isRecord } from '../http.js';
import type { MessageFile, StoredMessage } from './chat-state.js';

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
    const parsed: Parsed<{ text: string; files: MessageFile[] }> =
      contentType === 'object_string' ? parseObjectString(content) : { ok: true, value: { text: content, files: [] } };
    if (!parsed.ok) return { ok: false, error: `${field}: ${parsed.error}` };
    const type = typeof item.type === 'string' ? item.type : item.role === 'user' ? 'question' : 'answer';
    value.push({ role: item.role, type, content, contentType, ...parsed.value });
  }
  return { ok: true, value };
}

const FILE_ITEM_TYPES = new Set(['image', 'file', 'audio']);

/**
 * An object_string message: a JSON array (as a string) of items {type:'text', text} and
 * {type:'image'|'file'|'audio', file_id | file_url}; at most one text item, which needs a file beside it.
 */
function parseObjectString(content: string): Parsed<{ text: string; files: MessageFile[] }> {
  let items: unknown;
  try {
    items = JSON.parse(content);
  } catch {
    return { ok: false, error: 'object_string content must be a JSON array' };
  }
  if (!Array.isArray(items)) return { ok: false, error: 'object_string content must be a JSON array' };
  const texts: string[] = [];
  const files: MessageFile[] = [];
  for (const item of items) {
    if (isRecord(item) && item.type === 'text' && typeof item.text === 'string') texts.push(item.text);
    else if (isRecord(item) && typeof item.type === 'string' && FILE_ITEM_TYPES.has(item.type)) {
      const fileId = typeof item.file_id === 'string' ? item.file_id : undefined;
      const fileUrl = typeof item.file_url === 'string' ? item.file_url : undefined;
      if (!fileId && !fileUrl) return { ok: false, error: `an object_string ${item.type} item needs file_id or file_url` };
      files.push({ type: item.type, ...(fileId ? { fileId } : { fileUrl: fileUrl! }) });
    } else return { ok: false, error: 'object_string items are {type:"text",text} or {type:"image"|"file"|"audio",file_id|file_url}' };
  }
  if (texts.length > 1) return { ok: false, error: 'an object_string message holds at most one text item' };
  if (!files.length) return { ok: false, error: 'an object_string message needs an image, file or audio item' };
  return { ok: true, value: { text: texts[0] ?? '', files } };
}

/** custom_variables / meta_data: a map of strings (non-string values are dropped). */
export function stringMap(raw: unknown): Record<string, string> {
  if (!isRecord(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
