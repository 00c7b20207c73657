// The embedded database (PGlite) behind a worker thread, offered to Drizzle as the PGlite client it
// expects: `query` and `transaction`. PGlite runs each statement synchronously on its thread, so on
// the event loop every chat's first statement and every checkpoint held up all the streams; under
// load, new chats queued behind them for seconds. On its own thread the database uses the other core.
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, QueryResult, ToWorker, WorkerOptions } from './embedded-protocol.js';
import { copyTemplate, embeddedTemplate } from './embedded-template.js';

/** What Drizzle's PGlite session calls on a client (and on a transaction's client). */
export interface Queryable {
  query(sql: string, params?: unknown[], options?: { rowMode?: 'array' | 'object' }): Promise<QueryResult>;
}

type Request = ToWorker extends infer M ? (M extends ToWorker ? Omit<M, 'id'> : never) : never;

/** The database's thread, from the built JavaScript, or from the TypeScript source under tsx (tests). */
function startWorker(options: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./embedded-worker.js', import.meta.url), { workerData: options });
  // Node 20 does not carry tsx's loader into worker threads: the thread loads it itself.
  const source = JSON.stringify(new URL('./embedded-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => tsx.tsImport(${source}, ${source}))`, { eval: true, workerData: options });
}

export class EmbeddedClient implements Queryable {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, Array<(payload: string) => void>>();
  private nextId = 1;
  private stopped: Error | null = null;
  /** Settles when the thread has opened the database (or failed to). */
  private ready!: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => this.stop(new Error(`The embedded database failed: ${error.message}`)));
    worker.on('exit', (code) => this.stop(new Error(`The embedded database stopped (exit code ${code})`)));
  }

  /**
   * Starts the database's thread and hands the client over at once: statements sent before the
   * thread is ready wait in its queue, so the caller's own start-up (loading and building the app)
   * runs meanwhile, and a thread that fails to start fails them. A new data directory is a copy of
   * the build's template (embedded-template.ts; looked for only then). Without one, it is created
   * first by a thread that then ends: creating the cluster leaves PGlite holding some 500 MB it never
   * gives back, which a server should not carry for its whole life.
   */
  static async open(location: string, findTemplate: () => string | null = embeddedTemplate): Promise<EmbeddedClient> {
    if (!location.startsWith('memory://')) {
      if (!existsSync(path.join(location, 'PG_VERSION'))) {
        const template = findTemplate();
        if (template) copyTemplate(template, location);
        else {
          const creator = EmbeddedClient.start(location);
          await creator.ready;
          await creator.close();
        }
      }
      // PGlite makes its files readable and writable by every local user (0666): the directory keeps
      // them out, as PostgreSQL's own data directories do (also for directories made before this).
      chmodSync(location, 0o700);
    }
    return EmbeddedClient.start(location);
  }

  private static start(location: string): EmbeddedClient {
    const worker = startWorker({ location });
    const client = new EmbeddedClient(worker);
    client.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.op !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve();
      };
      const onExit = () => reject(client.stopped ?? new Error('The embedded database did not start'));
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
    // The thread keeps the process alive until it is ready; a failed start reaches the statements waiting for it.
    client.ready.then(
      () => client.idle(),
      () => {},
    );
    return client;
  }

  query(sql: string, params: unknown[] = [], options: { rowMode?: 'array' | 'object' } = {}): Promise<QueryResult> {
    return this.call({ op: 'query', sql, params, rowMode: options.rowMode ?? 'object' }) as Promise<QueryResult>;
  }

  /** Runs `fn` in one transaction; other statements wait until it commits or rolls back. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = (await this.call({ op: 'begin' })) as number;
    let result: T;
    try {
      result = await fn({
        query: (sql, params = [], options = {}) =>
          this.call({ op: 'query', sql, params, rowMode: options.rowMode ?? 'object', tx }) as Promise<QueryResult>,
      });
    } catch (error) {
      await this.call({ op: 'rollback', tx }).catch(() => {});
      throw error;
    }
    await this.call({ op: 'commit', tx });
    return result;
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<void> {
    const list = this.listeners.get(channel);
    if (list) {
      list.push(handler);
      return;
    }
    this.listeners.set(channel, [handler]);
    await this.call({ op: 'listen', channel });
  }

  /** Full garbage collections on the database's thread (see memory.ts). */
  async collectGarbage(): Promise<void> {
    await this.call({ op: 'collect-garbage' });
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call({ op: 'close' }).catch(() => {});
    await this.worker.terminate();
  }

  private call(request: Request): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    // The thread keeps the process alive only while a statement is under way.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as ToWorker);
    });
  }

  private receive(message: FromWorker): void {
    if (message.op === 'notification') {
      for (const handler of this.listeners.get(message.channel) ?? []) handler(message.payload);
      return;
    }
    if (message.op !== 'result') return;
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    this.idle();
    if (message.error) waiting.reject(Object.assign(new Error(String(message.error.message)), message.error));
    else waiting.resolve(message.result);
  }

  private idle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const { reject } of this.pending.values()) reject(this.stopped);
    this.pending.clear();
  }
}
