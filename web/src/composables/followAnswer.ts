// Follows an answer that runs on the server without this page (it was started before a reload, in
// another tab, or before the network dropped): GET …/conversations/:id/stream answers the chat's
// own stream, beginning with the text so far, or 204 when nothing runs (see docs/resume.md).
import { apiFetch } from '../api';
import type { CompletionEvent } from '@agentport/server/contract';
import { readCompletionEvents } from './sse';

/** How following ended: nothing ran, the answer's end arrived, or the stream broke off before it. */
export type FollowEnd = 'idle' | 'ended' | 'cut';

/** Hands each chunk of the running answer to `onChunk`, the first holding its whole text so far. */
export async function followAnswer(
  conversationId: string,
  signal: AbortSignal,
  onChunk: (chunk: CompletionEvent) => void,
): Promise<FollowEnd> {
  const response = await apiFetch(`/api/ai-agent/conversations/${encodeURIComponent(conversationId)}/stream`, {
    signal,
    headers: { Accept: 'text/event-stream' },
  });
  if (response.status === 204 || !response.body) return 'idle';
  return (await readCompletionEvents(response.body, onChunk)) ? 'ended' : 'cut';
}
