// `npm run bench:start`: how long a built platform takes from its command to a healthy answer.
//
//   npm run bench:start -- [--runs 5] [--database-url postgres://postgres@127.0.0.1:5432/test]
//
// Each start is timed from spawning the command to the first `200` of GET /api/health (asked every
// 10 ms), then the process is stopped. The control is a bare Node HTTP server started the same way:
// it is what this machine takes to start any Node process, so the figures are also given as the
// platform's time minus the control's. Rounds alternate the commands, so a busy spell of the machine
// falls on all of them. The embedded database is started once before timing (a first start creates
// its data directory, which an operator's later starts do not do).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, serverMain } from './lib/processes.js';

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
  env: Record<string, string>;
}

/** Milliseconds from spawning `command` to its first healthy answer; the process is stopped after. */
async function timeStart(command: Command): Promise<number> {
  const started = performance.now();
  const child = spawn(command.file, command.args, {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(PORT), LOG_LEVEL: 'warn', ...command.env },
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
      if (healthy) return performance.now() - started;
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

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agentport-start-'));
const embedded = { DATA_DIR: dataDir };
const commands: Command[] = [
  { name: 'control (bare Node HTTP server)', file: process.execPath, args: ['-e', CONTROL], env: {} },
  { name: 'node server/dist/main.js, embedded', file: process.execPath, args: [serverMain], env: embedded },
  { name: 'npm start, embedded', file: 'npm', args: ['start', '--silent'], env: embedded },
];
if (flags['database-url']) {
  const postgres = { DATABASE_URL: flags['database-url'] };
  commands.push(
    { name: 'node server/dist/main.js, PostgreSQL', file: process.execPath, args: [serverMain], env: postgres },
    { name: 'npm start, PostgreSQL', file: 'npm', args: ['start', '--silent'], env: postgres },
  );
}

try {
  await timeStart(commands[1]!); // creates the embedded data directory
  const times = new Map(commands.map((command) => [command, [] as number[]]));
  for (let round = 0; round < runs; round++) {
    for (const command of commands) times.get(command)!.push(await timeStart(command));
  }
  const control = median(times.get(commands[0]!)!);
  console.log(`Start to healthy, median of ${runs} (min–max), ms:`);
  for (const [command, values] of times) {
    const spread = `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`;
    const added = command === commands[0] ? '' : `, control + ${Math.round(median(values) - control)}`;
    console.log(`  ${command.name}: ${Math.round(median(values))} (${spread})${added}`);
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
