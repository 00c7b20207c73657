// Reads a `text/event-stream` body event by event. eventsource-parser frames it (the parser the
// server reads Coze's stream with), so chunk boundaries, line endings and comments are its concern.
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
