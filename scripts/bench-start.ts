// `npm run bench:start`: how long a built platform takes from its command to a healthy answer.
//
//   npm run bench:start -- [--runs 5] [--database-url postgres://postgres@127.0.0.1:5432/test]
//
// Each start is timed from spawning the command to the first `200` of GET /api/health (asked every
// 10 ms), then the process is stopped. The control is a bare Node HTTP server started the same way:
// it is what this machine takes to start any Node process, so the figures are also given as the
// platform's time minus the control's. Rounds alternate the commands, so a busy spell of the machine
// falls on all of them. The embedded database is started once before timing (a first start creates
// its data directory, which an operator's later starts do not do); the first start is a command of
// its own, on a new data directory each round. Each command's peak RSS is printed too: a first start
// that needs more memory than the server then runs in fails on a small machine.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PLATFORM_NODE_FLAGS, platformArgs, repoRoot } from './lib/processes.js';

const { values: flags } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, 'database-url': { type: 'string' } },
});
const runs = Number(flags.runs);
const PORT = 3999;
const GIVE_UP_MS = 60_000;

const CONTROL = `require('node:http').createServer((_, res) => res.end('{}')).listen(${PORT}, '127.0.0.1')`;

interface Command {
  name: string;
  file: string;
  args: string[];
  env: () => Promise<Record<string, string>>;
}

interface Start {
  ms: number;
  /** The process's peak RSS (VmHWM) in bytes; null for the npm commands (the process is npm's, not the server's). */
  peakRss: number | null;
}

function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Milliseconds from spawning `command` to its first healthy answer; the process is stopped after. */
async function timeStart(command: Command): Promise<Start> {
  const env = await command.env();
  const started = performance.now();
  const child = spawn(command.file, command.args, {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(PORT), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true, // npm start runs node under a shell: stop the whole group
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    while (performance.now() - started < GIVE_UP_MS) {
      const healthy = await fetch(`http://127.0.0.1:${PORT}/api/health`).then(
        (res) => res.ok,
        () => false,
      );
      if (healthy) return { ms: performance.now() - started, peakRss: command.file === process.execPath ? peakRss(child.pid!) : null };
      if (child.exitCode !== null) throw new Error(`${command.name} exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${command.name} was not healthy within ${GIVE_UP_MS} ms`);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const root = await mkdtemp(path.join(os.tmpdir(), 'agentport-start-'));
const embedded = async () => ({ DATA_DIR: path.join(root, 'data') });
const newEmbedded = async () => ({ DATA_DIR: await mkdtemp(path.join(root, 'new-')) });
/** The built server started as `npm start` starts it, without npm. */
const direct = ['node', ...PLATFORM_NODE_FLAGS, 'server/dist/main.js'].join(' ');
const commands: Command[] = [
  { name: 'control (bare Node HTTP server)', file: process.execPath, args: ['-e', CONTROL], env: async () => ({}) },
  { name: `${direct}, embedded`, file: process.execPath, args: platformArgs, env: embedded },
  { name: 'npm start, embedded', file: 'npm', args: ['start', '--silent'], env: embedded },
  { name: `${direct}, embedded, first start`, file: process.execPath, args: platformArgs, env: newEmbedded },
];
if (flags['database-url']) {
  const postgres = async () => ({ DATABASE_URL: flags['database-url']! });
  commands.push(
    { name: `${direct}, PostgreSQL`, file: process.execPath, args: platformArgs, env: postgres },
    { name: 'npm start, PostgreSQL', file: 'npm', args: ['start', '--silent'], env: postgres },
  );
}

try {
  await timeStart(commands[1]!); // creates the embedded data directory
  const starts = new Map(commands.map((command) => [command, [] as Start[]]));
  for (let round = 0; round < runs; round++) {
    for (const command of commands) starts.get(command)!.push(await timeStart(command));
  }
  const control = median(starts.get(commands[0]!)!.map((start) => start.ms));
  console.log(`Start to healthy, median of ${runs} (min–max), ms; peak RSS, median:`);
  for (const [command, list] of starts) {
    const times = list.map((start) => start.ms);
    const spread = `${Math.round(Math.min(...times))}–${Math.round(Math.max(...times))}`;
    const added = command === commands[0] ? '' : `, control + ${Math.round(median(times) - control)}`;
    const peaks = list.flatMap((start) => (start.peakRss === null ? [] : [start.peakRss]));
    const peak = peaks.length ? `; peak RSS ${(median(peaks) / 2 ** 20).toFixed(0)} MB` : '';
    console.log(`  ${command.name}: ${Math.round(median(times))} (${spread})${added}${peak}`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
