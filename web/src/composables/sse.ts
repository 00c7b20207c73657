// Reads a `text/event-stream` body event by event. eventsource-parser frames it (the parser the
// server reads Coze's stream with), so chunk boundaries, line endings and comments are its concern.
import type { CompletionEvent } from '@agentport/server/contract';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/** Hands each event's data to `onData`, in order; resolves at the end of the body. */
export async function readEventData(body: ReadableStream<Uint8Array<ArrayBuffer>>, onData: (data: string) => void): Promise<void> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (let next = await events.read(); !next.done; next = await events.read()) onData(next.value.data);
  } finally {
    events.releaseLock();
  }
}

/**
 * Hands each chunk of an answer stream (a chat's, or a followed answer's) to `onChunk`; resolves true
 * when its [DONE] arrived, false when the stream broke off before.
 */
export async function readCompletionEvents(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  onChunk: (chunk: CompletionEvent) => void,
): Promise<boolean> {
  let done = false;
  await readEventData(body, (payload) => {
    if (payload === '[DONE]') {
      done = true;
      return;
    }
    let chunk: CompletionEvent;
    try {
      chunk = JSON.parse(payload) as CompletionEvent;
    } catch {
      return; // A malformed event is skipped rather than ending the answer.
    }
    onChunk(chunk);
  });
  return done;
}
