// Helpers for the Coze client tests: a throw-away local HTTP server and a config pointing at it.
import { createServer, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { CozeConfig } from '../src/coze/openapi/config.js';
import type { CozeChatEvent, CozeChatEventHandler } from '../src/coze/openapi/stream.js';

export const SECRET_TOKEN = 'pat_TopSecretTokenValue1234567890';

/** One server-sent event as Coze writes it; `data` that is a string is written as it is, anything else as JSON. */
export const sse = (event: string, data: unknown): string =>
  `event:${event}\ndata:${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

export interface LocalServer {
  url: string;
  /** Requests seen so far, with their bodies and the client's port (which connection sent them). */
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string; clientPort: number }[];
  /** The client's port of each connection, in the order they were opened. */
  connections: number[];
  /** Resolves when a request's socket closes (the client went away or the exchange ended). */
  closed: Promise<void>[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => unknown;

/**
 * `keepAliveTimeoutMs`: how long the server keeps an idle connection (Node's default, 5 s, otherwise).
 * `tls`: serve HTTPS with this key and certificate.
 */
export async function startLocalServer(
  handler: Handler,
  options: { keepAliveTimeoutMs?: number; tls?: { key: Buffer; cert: Buffer } } = {},
): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const connections: number[] = [];
  const closed: Promise<void>[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    closed.push(new Promise((resolve) => res.on('close', () => resolve())));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, clientPort: req.socket.remotePort! });
      Promise.resolve(handler(req, res, body)).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  };
  const server = options.tls ? createTlsServer(options.tls, onRequest) : createServer(onRequest);
  server.on('connection', (socket) => connections.push(socket.remotePort!));
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    connections,
    closed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** True once `agent` holds an idle connection to `url`'s server, ready for the next request. */
export const hasIdleConnection = (agent: Agent, url: string): boolean =>
  Object.keys(agent.freeSockets).some((name) => name.includes(`:${new URL(url).port}:`));

export function testConfig(baseUrl: string, overrides: Partial<CozeConfig> = {}): CozeConfig {
  return {
    baseUrl,
    spaceId: 'space-1',
    auth: { kind: 'token', token: SECRET_TOKEN },
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    maxRetries: 2,
    ...overrides,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Writes `bytes` one byte per write, waiting for each write to be flushed before the next. */
export async function writeByteByByte(res: ServerResponse, bytes: Buffer): Promise<void> {
  res.socket?.setNoDelay(true);
  for (let i = 0; i < bytes.length; i++) {
    await new Promise<void>((resolve, reject) => res.write(bytes.subarray(i, i + 1), (err) => (err ? reject(err) : resolve())));
  }
}

/** Every event a reading hands out, in order; `read` starts it with the handler (`(on) => client.streamChat(p, on)`). */
export async function collect(read: (onEvent: CozeChatEventHandler) => Promise<void>): Promise<CozeChatEvent[]> {
  const out: CozeChatEvent[] = [];
  await read((event) => void out.push(event));
  return out;
}

/** The text of the assistant's `answer` deltas, concatenated. */
export function answerText(events: CozeChatEvent[]): string {
  return events.map((e) => (e.event === 'conversation.message.delta' && e.data.type === 'answer' ? e.data.content : '')).join('');
}

/** A body that hands out the given chunks, one per read. */
export function chunkedStream(chunks: Uint8Array[]): Readable {
  return Readable.from(chunks);
}

/** A body that has sent `first` and then stays open; `destroyed` tells whether the reader let go of it. */
export function openBody(first: Uint8Array): { body: Readable; destroyed: () => boolean } {
  let destroyed = false;
  const body = new Readable({
    read() {},
    destroy(err, callback) {
      destroyed = true;
      callback(err);
    },
  });
  body.push(first);
  return { body, destroyed: () => destroyed };
}

export function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export async function rejectsWith<T>(promise: Promise<unknown>, check: (err: T) => void): Promise<T> {
  try {
    await promise;
  } catch (err) {
    check(err as T);
    return err as T;
  }
  throw new Error('expected a rejection');
}
