// Gives back the memory a load took, once the load is over. V8 keeps the heap pages a burst of streams
// grew into, and a process with nothing to do may run no collection that frees them for a long while
// (V8's memory reducer ran 20 s after a load in some runs, not within 45 s in others): after 600
// streams the process stayed some 40 MB larger until the next load (see docs/performance.md). So once
// the requests here went quiet (QuietCollection), and this thread's heap grew since it last gave
// memory back, each JavaScript thread (this one, and the embedded database's) collects its garbage
// fully. The growth is the heap's, which is what the collections give back: the RSS also carries the C
// allocator's state from start-up (compiling the database), tens of MB more or less from one start to
// the next.
import type { Server } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';

/** How often the requests are looked at (QuietCollection). */
export const QUIET_MS = 10_000;
/** Requests that may start between two looks and leave the server quiet (health checks, now and then). */
export const QUIET_REQUESTS = 10;
/** Less heap growth than this since the last time is left alone (a health check now and then costs no collection). */
export const GROWTH_BYTES = 16 * 1024 * 1024;
/** A full collection moves only part of the scattered live objects together: a few in a row free the rest. */
const MAX_COLLECTIONS = 4;

let gc: (() => void) | undefined;

/** This thread's V8 heap, in bytes: what a load grows and the collections give back. */
const heapSize = () => v8.getHeapStatistics().total_heap_size;

/**
 * Full garbage collections on the calling thread until its heap stops shrinking. V8 offers its
 * collector only behind a flag; set now, it gives each context created afterwards a `gc` function.
 * They compact every page they can, as the memory reducer's collections do, where a plain full
 * collection leaves most sparse pages in place: after 600 streams the old space came down to 18.5 MB
 * at once instead of 23–24 MB. That flag is V8's, process-wide, so it is on only for these collections.
 */
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    let size = heapSize();
    for (let i = 0; i < MAX_COLLECTIONS; i++) {
      gc();
      const after = heapSize();
      if (size - after < 1024 * 1024) return;
      size = after;
    }
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

export interface QuietCollectionOptions {
  /** Collects on every JavaScript thread (see collectGarbage). */
  collect: () => Promise<void>;
  quietMs?: number;
  growthBytes?: number;
  /** This thread's V8 heap (by default the real one, see heapSize). */
  heapSize?: () => number;
}

/**
 * Looks every `quietMs` at the requests: a look is quiet when none is in flight and at most
 * QUIET_REQUESTS started since the one before. After two quiet looks in a row the load is over (for
 * a look's time at least: V8 shrinks its young generation only once allocation has been low for a
 * few seconds), and the heap is collected if it grew since the last time. A few requests (a health
 * check every few seconds, as load balancers and orchestrators send) leave the server quiet; were
 * any request to restart a quiet time, such checks would keep it from ever giving back. Before the
 * first collection there is no last time: the first quiet looks collect what start-up left
 * (migrations, the database's start).
 */
export class QuietCollection {
  private inFlight = 0;
  private started = 0;
  private quietLooks = 0;
  private collecting = false;
  private readonly quietMs: number;
  private readonly growthBytes: number;
  private readonly heapSize: () => number;
  /** The heap's size after the last collection. */
  private baseline = -Infinity;

  constructor(private readonly options: QuietCollectionOptions) {
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.growthBytes = options.growthBytes ?? GROWTH_BYTES;
    this.heapSize = options.heapSize ?? heapSize;
  }

  /** Every request the server takes counts, until its response closes (a stream's, when the stream ends); the looks end with the server. */
  watch(server: Server): void {
    server.on('request', (_request, response) => {
      this.requestStarted();
      response.once('close', () => this.requestEnded());
    });
    const looks = this.start();
    server.once('close', () => clearInterval(looks));
  }

  /** Starts looking; the process does not wait for the looks. */
  start(): NodeJS.Timeout {
    return setInterval(() => void this.look(), this.quietMs).unref();
  }

  requestStarted(): void {
    this.inFlight++;
    this.started++;
  }

  requestEnded(): void {
    this.inFlight--;
  }

  private async look(): Promise<void> {
    const quiet = this.inFlight === 0 && this.started <= QUIET_REQUESTS;
    this.started = 0;
    this.quietLooks = quiet ? this.quietLooks + 1 : 0;
    if (this.quietLooks < 2 || this.collecting || this.heapSize() - this.baseline < this.growthBytes) return;
    this.collecting = true;
    await this.options.collect().catch(() => {}); // a database thread that went away has nothing to give back
    this.baseline = this.heapSize();
    this.collecting = false;
  }
}
