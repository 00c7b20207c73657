// The embedded database's own thread. PGlite is PostgreSQL compiled to WebAssembly: every statement
// runs synchronously on the thread that calls it. Here it cannot hold up the event loop that relays
// the streams. The other side of these messages is embedded.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { parse, PGlite, protocol, types, type Transaction } from '@electric-sql/pglite';
import { collectGarbage } from '../memory.js';
import type { FromWorker, QueryResult, ToWorker, WorkerOptions } from './embedded-protocol.js';

const port = parentPort!;
const options = workerData as WorkerOptions;
const asText = (value: string) => value;
// Dates and intervals stay text, as Drizzle asks of the drivers it maps columns for (its pglite
// session passes these parsers with every query; functions cannot cross threads, so they live here).
const textParsers = {
  [types.TIMESTAMP]: asText,
  [types.TIMESTAMPTZ]: asText,
  [types.INTERVAL]: asText,
  [types.DATE]: asText,
  1231: asText,
  1115: asText,
  1185: asText,
  1187: asText,
  1182: asText,
};
const parsers = { ...types.parsers, ...textParsers };

const pglite = await PGlite.create(options.location, {
  parsers: textParsers,
  // PGlite's default shared_buffers (128 MB) suits a database held in memory; the platform's working
  // set is small and the operating system caches its files anyway.
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
});

/** Open transactions: their handle and how to end them. */
const transactions = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<unknown> }>();
let nextTransaction = 1;
const send = (message: FromWorker) => port.postMessage(message);

/** Whatever PostgreSQL said (code, detail, constraint…) with the message, as plain data. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = { message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === 'function' || typeof value === 'object') continue;
    fields[key] = value;
  }
  return fields;
}

// PGlite's query() parses and plans its statement every time, in three round trips. The platform runs
// the same few statements for every chat, so each is prepared once under a name and then run in one
// round trip: a chat's first statement costs about a sixth as much.
const { serialize } = protocol;
/** Each statement's name, once PostgreSQL has it. */
const statements = new Map<string, Promise<string>>();
let statementCount = 0;
/** Statements built on the fly (rare here) run unprepared once this many are named. */
const MAX_PREPARED = 200;

/** Parameters as the text PostgreSQL reads (what PGlite's own serializers write); null when one is not simple. */
function asTextValues(params: unknown[]): Array<string | null> | null {
  const values: Array<string | null> = [];
  for (const value of params) {
    if (value === null || value === undefined) values.push(null);
    else if (typeof value === 'string') values.push(value);
    else if (typeof value === 'number' || typeof value === 'bigint') values.push(String(value));
    else if (typeof value === 'boolean') values.push(value ? 't' : 'f');
    else if (value instanceof Date) values.push(value.toISOString());
    else return null; // arrays, bytes: PGlite's query() knows how
  }
  return values;
}

const joined = (parts: Uint8Array[]) => {
  const all = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
};

/** Runs raw protocol messages as PGlite's query() would: after any open transaction, alone. */
const exclusive = <T>(fn: () => Promise<T>) => pglite._runExclusiveTransaction(() => pglite.runExclusive(fn));

/** The statement's name, preparing it the first time; null once enough are named. */
function statementFor(sql: string): Promise<string> | null {
  let named = statements.get(sql);
  if (!named && statements.size < MAX_PREPARED) {
    const name = `agentport_${++statementCount}`;
    named = exclusive(() => pglite.execProtocol(joined([serialize.parse({ name, text: sql, types: [] }), serialize.sync()]))).then(
      () => name,
    );
    statements.set(sql, named);
    // One that does not parse is not kept: its error reaches the caller, as query() would give it.
    named.catch(() => statements.delete(sql));
  }
  return named ?? null;
}

async function query(sql: string, params: unknown[], rowMode: 'array' | 'object'): Promise<QueryResult> {
  const values = asTextValues(params);
  const statement = values && statementFor(sql);
  if (!statement) {
    const { rows, fields, affectedRows } = await pglite.query(sql, params, { rowMode });
    return { rows, fields, affectedRows };
  }
  const name = await statement;
  const { messages } = await exclusive(() =>
    pglite.execProtocol(
      joined([serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
    ),
  );
  const [{ rows, fields, affectedRows }] = parse.parseResults(messages, parsers, { rowMode }) as [QueryResult];
  return { rows, fields, affectedRows };
}

async function begin(): Promise<number> {
  const id = nextTransaction++;
  let entered!: () => void;
  const ready = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const done = pglite.transaction(
    (tx) =>
      new Promise<void>((resolve, reject) => {
        transactions.set(id, { tx, end: (commit) => (commit ? resolve() : reject(new Error('rollback'))), done });
        entered();
      }),
  );
  done.catch(() => {}); // a rollback rejects it on purpose; commit/rollback report what matters
  await ready;
  return id;
}

async function end(id: number, commit: boolean): Promise<void> {
  const open = transactions.get(id);
  if (!open) throw new Error(`no open transaction ${id}`);
  transactions.delete(id);
  open.end(commit);
  if (commit) await open.done;
  else await open.done.catch(() => {});
}

async function handle(message: ToWorker): Promise<unknown> {
  switch (message.op) {
    case 'query': {
      if (message.tx === undefined) return query(message.sql, message.params, message.rowMode);
      const tx = transactions.get(message.tx)?.tx;
      if (!tx) throw new Error(`no open transaction ${message.tx}`);
      const { rows, fields, affectedRows } = await tx.query(message.sql, message.params, { rowMode: message.rowMode });
      return { rows, fields, affectedRows };
    }
    case 'begin':
      return begin();
    case 'commit':
      return end(message.tx, true);
    case 'rollback':
      return end(message.tx, false);
    case 'listen':
      await pglite.listen(message.channel, (payload) => send({ op: 'notification', channel: message.channel, payload }));
      return undefined;
    case 'collect-garbage':
      collectGarbage();
      return undefined;
    case 'close':
      await pglite.close();
      return undefined;
  }
}

port.on('message', (message: ToWorker) => {
  handle(message).then(
    (result) => send({ op: 'result', id: message.id, result }),
    (error: unknown) => send({ op: 'result', id: message.id, error: describe(error) }),
  );
});
send({ op: 'ready' });
