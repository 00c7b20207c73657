// Gives back the memory a load took, once the load is over. V8 keeps the heap pages a burst of streams
// grew into, and a process with nothing to do may run no collection that frees them for a long while
// (V8's memory reducer ran 20 s after a load in some runs, not within 45 s in others): after 600
// streams the process stayed some 40 MB larger until the next load (see docs/performance.md). So once
// no request has been in flight here for a while, and this thread's heap grew since it last gave
// memory back, each JavaScript thread (this one, and the embedded database's) collects its garbage
// fully. The growth is the heap's, which is what the collections give back: the RSS also carries the C
// allocator's state from start-up (compiling the database), tens of MB more or less from one start to
// the next.
import type { Server } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';

/** How long no request may be in flight before the load counts as over. */
export const QUIET_MS = 10_000;
/** Less heap growth than this since the last time is left alone (a health check now and then costs no collection). */
export const GROWTH_BYTES = 16 * 1024 * 1024;
/** A full collection moves only part of the scattered live objects together: a few in a row free the rest. */
const MAX_COLLECTIONS = 4;

let gc: (() => void) | undefined;

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
    let size = v8.getHeapStatistics().total_heap_size;
    for (let i = 0; i < MAX_COLLECTIONS; i++) {
      gc();
      const after = v8.getHeapStatistics().total_heap_size;
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
  /** This thread's V8 heap, in bytes: what a load grows and the collections give back. */
  heapSize?: () => number;
}

/** Counts the requests in flight and collects once they have been none for `quietMs` after the heap grew. */
export class QuietCollection {
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly quietMs: number;
  private readonly growthBytes: number;
  private readonly heapSize: () => number;
  /** The heap's size when it last gave memory back (or started). */
  private baseline: number;

  constructor(private readonly options: QuietCollectionOptions) {
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.growthBytes = options.growthBytes ?? GROWTH_BYTES;
    this.heapSize = options.heapSize ?? (() => v8.getHeapStatistics().total_heap_size);
    this.baseline = this.heapSize();
  }

  /** Every request the server takes, until its response closes (a stream's, when the stream ends). */
  watch(server: Server): void {
    server.on('request', (_request, response) => {
      this.requestStarted();
      response.once('close', () => this.requestEnded());
    });
  }

  requestStarted(): void {
    this.inFlight++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  requestEnded(): void {
    if (--this.inFlight === 0) this.timer = setTimeout(() => void this.quiet(), this.quietMs).unref();
  }

  private async quiet(): Promise<void> {
    this.timer = undefined;
    if (this.heapSize() - this.baseline < this.growthBytes) return;
    await this.options.collect().catch(() => {}); // a database thread that went away has nothing to give back
    this.baseline = this.heapSize();
  }
}
