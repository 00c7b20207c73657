// Server-sent events: rendering, and playing a pre-rendered script of writes onto a response.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ticker } from './ticker.js';

/** Coze's event framing, byte for byte: `event:<name>\ndata:<one-line JSON>\n\n`. */
export function renderEvent(event: string, data: unknown): string {
  return `event:${event}\ndata:${JSON.stringify(data)}\n\n`;
}

/** One scripted write (already rendered), or dropping the connection, after a pause. */
export type Step = { delayMs: number; bytes: string } | { delayMs: number; drop: true };

export type PlayOutcome = 'finished' | 'dropped' | 'aborted';

/** Where a stream's bytes go. `null` in place of one means "run the script, write nowhere" (non-stream chats). */
export interface StreamOut {
  /** Write now, ignoring backpressure (the bench path: the reader is expected to keep up). */
  send(bytes: string): void;
  /** Write, honouring backpressure; in trickle mode as 1–3-byte writes with gaps. */
  write(bytes: string, signal: AbortSignal): Promise<void>;
  /** Destroy the socket: no further bytes, no clean end. */
  drop(): void;
}

export interface StreamOptions {
  contentType?: string;
  /** Split every write into 1–3-byte TCP writes (cutting UTF-8 characters and lines). */
  trickle?: boolean;
}

export function openEventStream(res: ServerResponse, options: StreamOptions = {}): StreamOut {
  res.writeHead(200, { 'content-type': options.contentType ?? 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const random = seededRandom(0x5eed);
  const write = async (bytes: string | Uint8Array, signal: AbortSignal): Promise<void> => {
    if (!res.write(bytes)) await once(res, 'drain', { signal });
  };
  const trickle = async (bytes: string, signal: AbortSignal): Promise<void> => {
    const buffer = Buffer.from(bytes, 'utf8');
    for (let at = 0; at < buffer.length && !signal.aborted;) {
      const size = 1 + Math.floor(random() * 3);
      await write(buffer.subarray(at, at + size), signal).catch(() => undefined);
      at += size;
      // A real gap, so each piece leaves as its own TCP segment and the reader sees it alone.
      await sleep(1, undefined, { signal }).catch(() => undefined);
    }
  };
  return {
    send: (bytes) => void res.write(bytes),
    write: options.trickle ? trickle : write,
    drop: () => res.destroy(),
  };
}

/** Plays the steps in order, sleeping before each; stops early when `signal` aborts. */
export async function playSteps(steps: Iterable<Step>, out: StreamOut | null, signal: AbortSignal): Promise<PlayOutcome> {
  try {
    for (const step of steps) {
      if (step.delayMs > 0) await sleep(step.delayMs, undefined, { signal });
      if (signal.aborted) return 'aborted';
      if ('drop' in step) {
        out?.drop();
        return 'dropped';
      }
      await out?.write(step.bytes, signal);
    }
    return signal.aborted ? 'aborted' : 'finished';
  } catch (error) {
    if (signal.aborted) return 'aborted';
    throw error;
  }
}

/** A stream paced by a shared Ticker: head now, one delta per tick, then the tail on the next tick. */
export interface TickedStream {
  head: string;
  deltaCount: number;
  delta(index: number): string;
  tail: string;
}

export function playTicked(stream: TickedStream, ticker: Ticker, out: StreamOut | null, signal: AbortSignal): Promise<PlayOutcome> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted');
    out?.send(stream.head);
    let sent = 0;
    const finish = (outcome: PlayOutcome): void => {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => finish('aborted');
    const unsubscribe = ticker.subscribe(() => {
      if (sent < stream.deltaCount) {
        out?.send(stream.delta(sent));
        sent += 1;
      } else {
        out?.send(stream.tail);
        finish('finished');
      }
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Deterministic (mulberry32), so a failing byte-split test splits the same way again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
