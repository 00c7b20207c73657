// Test helpers: raw HTTP calls against a sandbox, and splitting Coze's SSE text into events.
import type { Sandbox } from '../src/index.js';

export function cozeFetch(
  sandbox: Sandbox,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<Response> {
  return fetch(`${sandbox.cozeBaseUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${init.token ?? sandbox.token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

export function chat(sandbox: Sandbox, body: Record<string, unknown>, conversationId?: string): Promise<Response> {
  const query = conversationId ? `?conversation_id=${conversationId}` : '';
  return cozeFetch(sandbox, `/v3/chat${query}`, { body: { stream: true, ...body } });
}

export const userMessage = (content: string) => ({ role: 'user', content, content_type: 'text' });

export interface RawEvent {
  event: string;
  data: string;
}

/** Splits complete SSE text into events; asserts nothing about format (tests compare raw text for that). */
export function events(text: string): RawEvent[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return { event: eventLine.replace(/^event:/, ''), data: dataLine.replace(/^data:/, '') };
    });
}

export function answerText(text: string): string {
  return events(text)
    .filter((e) => e.event === 'conversation.message.delta')
    .map((e) => JSON.parse(e.data) as { type: string; content: string })
    .filter((m) => m.type === 'answer')
    .map((m) => m.content)
    .join('');
}

/** Reads a streaming body until `until` matches the text so far; returns the text and the reader to go on. */
export async function readUntil(res: Response, until: (text: string) => boolean) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const rest = async (): Promise<string> => {
    let more = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return more + decoder.decode();
      more += decoder.decode(value, { stream: true });
    }
  };
  return { text, rest };
}
