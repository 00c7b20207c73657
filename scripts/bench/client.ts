// The load generator's side of one stream: a plain node:http request whose bytes are scanned, not
// parsed. Each chunk costs a native indexOf for the delta marker and a hash over the few content bytes;
// the content is checked once, at the end, against the known bench answer (length + FNV-1a hash).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export type Arm = 'platform' | 'direct';

/** How an arm's wire format marks a content delta and ends a good stream. */
interface ArmFormat {
  /** Bytes that open one content delta. */
  marker: Buffer;
  /** Bytes right before the delta's text (searched from the marker; may be the marker itself). */
  contentKey: Buffer | null;
  /** Everything a good stream's last bytes must contain. */
  goodEnd: string[];
}

const FORMATS: Record<Arm, ArmFormat> = {
  // data: {…,"choices":[{"index":0,"delta":{"content":"…"},"finish_reason":null}]}
  platform: {
    marker: Buffer.from('"delta":{"content":"'),
    contentKey: null,
    goodEnd: ['"finish_reason":"stop"', '"status":"completed"', 'data: [DONE]'],
  },
  // event:conversation.message.delta\ndata:{…,"type":"answer","content":"…",…}
  direct: {
    marker: Buffer.from('event:conversation.message.delta\n'),
    contentKey: Buffer.from('"content":"'),
    goodEnd: ['event:conversation.chat.completed', 'event:done'],
  },
};

const QUOTE = 0x22;
const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a, 32-bit, continued from `hash` over `bytes[from, to)`. */
export function fnv1a(hash: number, bytes: Uint8Array, from = 0, to = bytes.length): number {
  let h = hash;
  for (let i = from; i < to; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** What a correct stream's content adds up to (its text as JSON string bytes, unescaped here: the bench text needs no escapes). */
export interface Expected {
  deltas: number;
  bytes: number;
  hash: number;
}

export function expectedFor(answer: string, deltas: number): Expected {
  const inner = JSON.stringify(answer).slice(1, -1);
  const bytes = Buffer.from(inner, 'utf8');
  return { deltas, bytes: bytes.length, hash: fnv1a(FNV_OFFSET, bytes) };
}

export interface StreamRecord {
  id: number;
  arm: Arm;
  /** performance.now() when the request was sent, and the same instant on the wall clock (ms). */
  start: number;
  wallStart: number;
  status: number;
  /** First byte of the body (the first event of any kind). */
  firstByte: number;
  /** Arrival time of each content delta (performance.now()); `count` of them are filled. */
  times: Float64Array;
  count: number;
  end: number;
  ok: boolean;
  error: string | null;
}

export interface StreamTarget {
  agent: http.Agent;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Runs one stream to its end. Never rejects: failures are recorded on the returned record.
 * `open` is called once the request is written; `abort` (from the caller) destroys it.
 */
export function runStream(
  id: number,
  arm: Arm,
  target: StreamTarget,
  expected: Expected,
  signal: AbortSignal,
): { record: StreamRecord; done: Promise<StreamRecord> } {
  const format = FORMATS[arm];
  const start = performance.now();
  const record: StreamRecord = {
    id,
    arm,
    start,
    wallStart: performance.timeOrigin + start,
    status: 0,
    firstByte: NaN,
    times: new Float64Array(expected.deltas + 8),
    count: 0,
    end: NaN,
    ok: false,
    error: null,
  };
  const done = new Promise<StreamRecord>((resolve) => {
    let settled = false;
    const finish = (error: string | null): void => {
      if (settled) return;
      settled = true;
      record.end = performance.now();
      record.error = error;
      record.ok = error === null;
      signal.removeEventListener('abort', onAbort);
      resolve(record);
    };
    const req = http.request({
      agent: target.agent,
      host: target.host,
      port: target.port,
      path: target.path,
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(target.body) },
    });
    req.on('error', (err) => finish(`request error: ${err.message}`));
    const onAbort = (): void => {
      req.destroy();
      finish('aborted by the bench (deadline or Ctrl+C)');
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      record.status = res.statusCode ?? 0;
      if (record.status !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          if (text.length < 500) text += s;
        });
        res.on('end', () => finish(`HTTP ${record.status}: ${text.slice(0, 200)}`));
        res.on('error', (err) => finish(`HTTP ${record.status}, then ${err.message}`));
        return;
      }
      const scan = new DeltaScanner(format);
      const tail: Buffer[] = [];
      let tailBytes = 0;
      res.on('data', (chunk: Buffer) => {
        const now = performance.now();
        if (Number.isNaN(record.firstByte)) record.firstByte = now;
        const found = scan.feed(chunk);
        for (let i = 0; i < found && record.count < record.times.length; i++) record.times[record.count++] = now;
        // Keep only the last few KB: the end of a stream says whether it finished well.
        tail.push(chunk);
        tailBytes += chunk.length;
        while (tail.length > 1 && tailBytes - tail[0]!.length > 4096) tailBytes -= tail.shift()!.length;
      });
      res.on('error', (err) => finish(`stream broke: ${err.message}`));
      res.on('end', () => {
        const end = Buffer.concat(tail).toString('utf8');
        if (arm === 'platform' && end.includes('data: {"error"'))
          return finish(`error chunk: ${end.slice(end.indexOf('data: {"error"'), end.indexOf('data: {"error"') + 200)}`);
        if (arm === 'direct' && (end.includes('event:error') || end.includes('event:conversation.chat.failed')))
          return finish('Coze error event');
        const missing = format.goodEnd.find((needle) => !end.includes(needle));
        if (missing) return finish(`stream ended without ${missing}`);
        if (scan.deltas !== expected.deltas) return finish(`mismatch: ${scan.deltas} deltas, expected ${expected.deltas}`);
        if (scan.bytes !== expected.bytes || scan.hash !== expected.hash)
          return finish(`mismatch: content differs (${scan.bytes} bytes, expected ${expected.bytes})`);
        finish(null);
      });
    });
    req.end(target.body);
  });
  return { record, done };
}

/** Counts content deltas in a byte stream and hashes their text, carrying split events across chunks. */
class DeltaScanner {
  deltas = 0;
  bytes = 0;
  hash = FNV_OFFSET;
  private carry: Buffer | null = null;

  constructor(private readonly format: ArmFormat) {}

  /** Returns how many deltas completed in this chunk. */
  feed(chunk: Buffer): number {
    const { marker, contentKey } = this.format;
    const b = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let pos = 0;
    let found = 0;
    for (;;) {
      const m = b.indexOf(marker, pos);
      if (m < 0) {
        const keep = Math.max(pos, b.length - marker.length + 1);
        if (keep < b.length) this.carry = Buffer.from(b.subarray(keep));
        break;
      }
      let k = m + marker.length;
      if (contentKey) {
        const at = b.indexOf(contentKey, k);
        k = at < 0 ? -1 : at + contentKey.length;
      }
      const q = k < 0 ? -1 : b.indexOf(QUOTE, k);
      if (q < 0) {
        this.carry = Buffer.from(b.subarray(m));
        break;
      }
      this.hash = fnv1a(this.hash, b, k, q);
      this.bytes += q - k;
      this.deltas += 1;
      found += 1;
      pos = q + 1;
    }
    return found;
  }
}
