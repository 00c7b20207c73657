// The tests' one reader of server-sent events. eventsource-parser frames them (the parser the server
// reads Coze's stream with), so a test reads events as a client does, wherever the chunks split; the
// text read so far is kept beside them for tests about the exact bytes on the wire.
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';

export interface EventReader {
  /** The next event, or null once the body has ended. */
  next(): Promise<EventSourceMessage | null>;
  /** The body's text read so far. */
  readonly text: string;
  /** Stops reading and lets go of the body (its connection closes). */
  cancel(): Promise<void>;
}

export function readEvents(body: ReadableStream<Uint8Array<ArrayBuffer>>): EventReader {
  let text = '';
  const keepText = new TransformStream<string, string>({
    transform(chunk, next) {
      text += chunk;
      next.enqueue(chunk);
    },
  });
  // A line the parser cannot take (an unknown field, say) fails the read: a test should hear of it.
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(keepText)
    .pipeThrough(new EventSourceParserStream({ onError: 'terminate' }))
    .getReader();
  return {
    async next() {
      const { value, done } = await events.read();
      return done ? null : value;
    },
    get text() {
      return text;
    },
    cancel: () => events.cancel(),
  };
}
