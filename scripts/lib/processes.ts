// The platform (server/dist/main.js) or the sandbox as a child process, for the tests, the demo and
// the bench alike: started with this Node, ready when it prints the line it prints once it listens,
// given up on (and killed) after a timeout with what it printed, stopped with SIGTERM, then SIGKILL
// if it lingers.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built server (`npm run build`). */
export const serverMain = path.join(repoRoot, 'server', 'dist', 'main.js');
/**
 * The V8 flags the platform runs with, however it is started (`npm start` and the Dockerfile pass them
 * too: scripts/test/processes.test.ts checks). V8 sizes its young generation for throughput, 16 MB
 * semi-spaces, which under 600 streams took 27 MB, more than the streams' own memory; 1 MB
 * semi-spaces keep it under 3 MB, and their extra collections stay within the noise of the CPU per
 * relayed delta (docs/performance.md).
 */
export const PLATFORM_NODE_FLAGS = ['--max-semi-space-size=1'];
/** The arguments to this Node binary that start the built platform as `npm start` does. */
export const platformArgs = [...PLATFORM_NODE_FLAGS, serverMain];
/** The sandbox's command line, run through tsx: `node --import tsx <sandboxMain> --port 0`. */
export const sandboxMain = path.join(repoRoot, 'sandbox', 'src', 'main.ts');

/** The line the server prints once it accepts connections (one per worker with WORKERS > 1). */
export const LISTENING = /listening on (http:\/\/\S+)/;
/** The sandbox's ready line: one JSON object with its addresses and credentials. */
export const isSandboxReady = (line: string): boolean => line.startsWith('{');

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const KEPT_LINES = 200;

export interface StartOptions {
  /** For messages: "server did not start within …". */
  name: string;
  /** Arguments to this Node binary: the script and its options. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Whether this stdout line says the process is ready; it may count lines (one per worker). */
  ready: (line: string) => boolean;
  timeoutMs?: number;
  /** Every stdout line, before and after ready (e.g. workers announcing themselves, lines to echo). */
  onLine?: (line: string) => void;
  /** `capture` (default): kept for `output()` only; `inherit`: written to this process's stderr as it comes. */
  stderr?: 'capture' | 'inherit';
  /**
   * Run through `sh -c 'ulimit -n <hard>; exec node …'` (the same pid after exec) so that the child may
   * open as many sockets as the hard limit allows (the bench's thousands of streams).
   */
  raiseFileLimit?: boolean;
}

export interface RunningProcess {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The stdout line that made it ready. */
  readyLine: string;
  /** Resolves when it has exited, however that happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it printed (stdout, and stderr unless inherited), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Every process started here and not yet exited, so that a script can stop them all on its way out. */
const running = new Set<ChildProcess>();

/** Starts `node <args>` and resolves once a stdout line passes `ready`; rejects (and kills it) when it exits or times out first. */
export function startProcess(options: StartOptions): Promise<RunningProcess> {
  const { name, args, env, ready, onLine, timeoutMs = DEFAULT_START_TIMEOUT_MS } = options;
  const stdio: StdioOptions = ['ignore', 'pipe', options.stderr === 'inherit' ? 'inherit' : 'pipe'];
  const proc = options.raiseFileLimit
    ? spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...args], { env, stdio })
    : spawn(process.execPath, args, { env, stdio });
  running.add(proc);

  const lines: string[] = [];
  const remember = (line: string): void => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  const output = (): string => lines.join('\n');
  if (proc.stderr) createInterface({ input: proc.stderr }).on('line', remember);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
    // A spawn that failed emits 'error' and no 'exit'.
    proc.once('error', () => {
      running.delete(proc);
      resolve({ code: null, signal: null });
    });
  });

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL'); // a no-op when it has exited already
      // Rejected once it is gone, so that a failed start leaves nothing running.
      void exited.then(() => {
        const printed = output();
        reject(new Error(`${name} ${why}${printed ? `:\n${printed}` : ''}`));
      });
    };
    let exitedWith: string | null = null;
    proc.once('exit', (code, signal) => {
      exitedWith = String(signal ?? code);
    });
    // 'close' rather than 'exit': by then its last lines (the reason it stopped) have been read.
    proc.once('close', () => fail(`exited (${exitedWith}) before it was ready`));
    const timer = setTimeout(
      () => fail(exitedWith ? `exited (${exitedWith}) before it was ready` : `did not start within ${timeoutMs} ms`),
      timeoutMs,
    );
    proc.once('error', (err) => fail(`could not be started: ${err.message}`));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      remember(line);
      onLine?.(line);
      if (settled || !ready(line)) return;
      settled = true;
      clearTimeout(timer);
      resolve({ name, proc, pid: proc.pid ?? -1, readyLine: line, exited, output, stop: (graceMs) => stopProcess(proc, graceMs) });
    });
  });
}

/** The server's address, from its "listening on http://…" line. */
export function listeningUrl(line: string): string {
  const match = LISTENING.exec(line);
  if (!match) throw new Error(`not a "listening on" line: ${line}`);
  return match[1]!;
}

function stopProcess(proc: ChildProcess, graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || !running.has(proc)) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Stops every process started here that is still running (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAllProcesses(graceMs?: number): Promise<void> {
  await Promise.all([...running].map((proc) => stopProcess(proc, graceMs)));
}

/** Last resort, synchronous (for process.on('exit')): no child outlives the script that started it. */
export function killAllProcessesNow(): void {
  for (const proc of running) proc.kill('SIGKILL');
}
