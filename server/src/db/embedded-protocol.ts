// The messages between the platform and the embedded database's thread (embedded.ts, embedded-worker.ts).

export interface WorkerOptions {
  /** A data directory, or `memory://` for a database that lives as long as the process. */
  location: string;
}

export type ToWorker = { id: number } & (
  | { op: 'query'; sql: string; params: unknown[]; rowMode: 'array' | 'object'; tx?: number }
  | { op: 'begin' }
  | { op: 'commit'; tx: number }
  | { op: 'rollback'; tx: number }
  | { op: 'listen'; channel: string }
  | { op: 'collect-garbage' }
  | { op: 'close' }
);

export type FromWorker =
  | { op: 'ready' }
  | { op: 'result'; id: number; result?: unknown; error?: Record<string, unknown> }
  | { op: 'notification'; channel: string; payload: string };

export interface QueryResult {
  rows: unknown[];
  fields: Array<{ name: string; dataTypeID: number }>;
  affectedRows?: number;
}
