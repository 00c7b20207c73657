// Small HTTP helpers shared by the Coze and OpenAI halves: ids, logids, bodies, JSON answers.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const idBase = BigInt(Date.now()) * 1_000_000n;
let idCounter = 0n;

/** A new 19-digit numeric-string id (Coze ids are int64 as strings: beyond Number.MAX_SAFE_INTEGER). */
export function newId(): string {
  idCounter += 1n;
  return (idBase + idCounter).toString();
}

/** A Coze-looking logid: UTC timestamp then 18 hex digits. */
export function newLogId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return stamp + randomBytes(9).toString('hex').toUpperCase();
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const MAX_BODY = 64 * 1024 * 1024;

export interface ReadBody {
  body: unknown;
  /** true when the body was declared JSON but did not parse. */
  malformed: boolean;
}

export async function readBody(req: IncomingMessage): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  if (size === 0) return { body: undefined, malformed: false };
  // A file upload stays bytes (its handler reads the parts).
  if ((req.headers['content-type'] ?? '').includes('multipart/form-data')) return { body: Buffer.concat(chunks), malformed: false };
  const text = Buffer.concat(chunks).toString('utf8');
  if (!(req.headers['content-type'] ?? '').includes('json')) return { body: text, malformed: false };
  try {
    return { body: JSON.parse(text) as unknown, malformed: false };
  } catch {
    return { body: text, malformed: true };
  }
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() || undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
