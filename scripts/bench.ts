// `npm run bench`: what the platform adds to a streaming chat, and what an open stream costs.
// Method: docs/benchmarking.md (open-loop arrivals, long answers, a control arm straight to
// the sandbox in the same run, figures as platform − direct, refuse a run whose control arm drifts).
//
//   npm run bench -- [--concurrency 300,600] [--rate 50] [--users 20] [--bots 6] [--deltas 200] [--interval 50-100]
//                    [--hold 10] [--pacing spread|burst] [--direct-share 0.25] [--database-url postgres://user@127.0.0.1:5432/db] [--workers 2]
//
// Three processes: the sandbox (stand-in Coze), the platform (server/dist/main.js; with --workers N,
// its primary and N workers, measured together) and this one, the load generator. Everything listens
// and connects on 127.0.0.1 only. Answers are lengthened when a level needs it, so that every stream
// of the level is open during the whole window. The platform is started with scripts/bench/gc-hook.mjs
// preloaded: on SIGUSR2 it runs a full GC and reports its heap, which is how the live memory per open
// stream is read (never inside the measured window).
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BENCH_BOTS, benchAnswer, PACINGS, seededRandom, type Pacing } from '@agentport/sandbox';
import { added, armFigures, quantile, StreamSchedule, TickGrid, type ArmFigures } from './bench/analysis.js';
import { expectedFor, runStream, type Arm, type Expected, type StreamRecord, type StreamTarget } from './bench/client.js';
import { QUIET_MS } from '../server/src/memory.js';
import { cpuSeconds, familySum, machineBusySeconds, openFilesLimit, processFamily, rssBytes } from './bench/procs.js';
import {
  isSandboxReady,
  killAllProcessesNow,
  LISTENING,
  listeningUrl,
  PLATFORM_NODE_FLAGS,
  repoRoot,
  sandboxMain,
  serverMain,
  startProcess,
  stopAllProcesses,
  type RunningProcess,
} from './lib/processes.js';

const ADMIN = { email: 'bench@agentport.test', password: 'bench-admin-password-1' } as const;
const START_TIMEOUT_MS = 60_000;
const IDLE_MS = 2_000; // quiet time before a level: idle RSS and background CPU
const RELEASE_MS = 5_000; // after the platform's second quiet look (QUIET_MS apart): its collections and the pages going back
const SETTLE_MS = 1_000; // after the last chat opened, before the window starts
const DRAIN_GRACE_MS = 30_000; // streams still open this long after they should have ended are aborted
const LOOP_RESOLUTION_MS = 5; // the generator's event-loop delay timer; its histogram holds whole intervals

// ── Options ──────────────────────────────────────────────────────────────────────────────────────
const { values: flags } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '300,600' },
    rate: { type: 'string', default: '50' },
    users: { type: 'string', default: '20' },
    bots: { type: 'string', default: '6' },
    deltas: { type: 'string', default: '200' },
    interval: { type: 'string', default: '50-100' },
    hold: { type: 'string', default: '10' },
    pacing: { type: 'string', default: 'spread' },
    'direct-share': { type: 'string', default: '0.25' },
    'database-url': { type: 'string' },
    workers: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    'platform-node-args': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run bench -- [options]
  --concurrency 300,600   platform streams open together, one level after another
  --rate 50               new chats per second (both arms) until a level's streams are all open
  --users 20              platform users the chats are spread over (each signs in with its own token)
  --bots 6                agents the chats are spread over, each an imported bench bot with its own pace
  --deltas 200            deltas per answer (at least; lengthened so every level holds for the window)
  --interval 50-100       ms between deltas: one value, or a range the bots' paces are spread over evenly
  --hold 10               seconds of the measured window, with all streams open
  --pacing spread         spread: each stream at its own phase, as independent upstream answers arrive;
                          burst: every stream's delta on the same tick (the worst case for a relay)
  --direct-share 0.25     share of chats sent straight to the sandbox (the control arm)
  --database-url URL      bench on PostgreSQL: a fresh database is created on that server and dropped after
  --workers 1             the platform's WORKERS (processes sharing its port; above 1 needs --database-url)
  --seed 1                order in which the arms interleave
  --platform-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"   extra node flags for the platform (profiling)`);
  process.exit(0);
}

function positive(name: string, raw: string, integer = true): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return value;
}
const levels = flags.concurrency.split(',').map((s) => positive('concurrency', s.trim()));
const rate = positive('rate', flags.rate, false);
const minDeltas = positive('deltas', flags.deltas);
const userCount = positive('users', flags.users);
const botCount = positive('bots', flags.bots);
if (botCount > BENCH_BOTS.length) throw new Error(`--bots can be at most ${BENCH_BOTS.length} (the sandbox's bench bots)`);
const [slowest, fastest] = ((): [number, number] => {
  const [low, high = low] = flags.interval.split('-').map((part) => positive('interval', part.trim()));
  if (high! < low!) throw new Error(`--interval range must go up, got "${flags.interval}"`);
  return [high!, low!];
})();
/** Each bot's pace: spread evenly over the interval range, fastest first. */
const paces = Array.from({ length: botCount }, (_, i) =>
  Math.round(botCount === 1 ? fastest : fastest + ((slowest - fastest) * i) / (botCount - 1)),
);
/** An open stream's mean deltas per second, over the bots' paces. */
const deltasPerStream = paces.reduce((sum, pace) => sum + 1000 / pace, 0) / paces.length;
const intervalText = slowest === fastest ? `${fastest} ms` : `${fastest}–${slowest} ms (${paces.join(', ')})`;
const holdMs = positive('hold', flags.hold, false) * 1000;
const pacing: Pacing =
  PACINGS.find((known) => known === flags.pacing) ??
  (() => {
    throw new Error(`--pacing must be ${PACINGS.join(' or ')}, got "${flags.pacing}"`);
  })();
// Burst pacing reads one shared tick grid off the direct arm: every bot must keep the same pace.
if (pacing === 'burst' && slowest !== fastest) throw new Error('--pacing burst needs one --interval, not a range');
const directShare = Number(flags['direct-share']);
if (!(directShare > 0 && directShare < 1))
  throw new Error('--direct-share must be between 0 and 1 (exclusive): the control arm is required');
const databaseUrl = flags['database-url'];
const workers = positive('workers', flags.workers);
if (workers > 1 && !databaseUrl) throw new Error('--workers above 1 needs --database-url (the embedded database is one process only)');
if (databaseUrl && !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(databaseUrl).hostname)) {
  // Everything in the run is on this machine: its CPU accounting ("other") and the figures assume it.
  throw new Error(`--database-url must point at this machine (127.0.0.1, localhost or [::1]), got ${new URL(databaseUrl).hostname}`);
}
if (!existsSync(serverMain)) throw new Error(`${serverMain} is missing: run \`npm run build\` first`);

// ── Cleanup: children, database, data directory, whatever ends the run ───────────────────────────
const cleanups: Array<() => Promise<void>> = [];
const stopStreams = new AbortController();
setMaxListeners(0, stopStreams.signal); // every open stream listens
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopStreams.abort();
    await stopAllProcesses();
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => console.error(`[bench] cleanup: ${String(err)}`));
  })();
  return cleaning;
}
process.on('exit', killAllProcessesNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n[bench] ${signal}: stopping`);
    const force = setTimeout(() => process.exit(130), 15_000);
    force.unref();
    void cleanup().finally(() => process.exit(130));
  });
}

// ── Helpers ──────────────────────────────────────────────────────────────────────────────────────
async function api<T>(base: string, method: string, urlPath: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${urlPath} → ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const median = (values: number[]): number => quantile(Float64Array.from(values).sort(), 0.5);
const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const signedMs = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms` : 'n/a');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// ── Start-up ─────────────────────────────────────────────────────────────────────────────────────
interface Setup {
  sandbox: RunningProcess;
  platform: RunningProcess;
  sandboxUrl: URL;
  platformUrl: URL;
  sandboxToken: string;
  /** The sandbox's Coze API, for the minimal relay (relayFloor). */
  cozeBaseUrl: string;
  adminToken: string;
  /** The users chats are spread over. */
  userTokens: string[];
  /** Where each platform process reports its memory (gc-hook.mjs). */
  memoryDir: string;
  bots: BenchBot[];
  dbLabel: string;
}

/** An imported bench bot: its agent, its Coze id and the pace it answers at. */
interface BenchBot {
  agentId: string;
  cozeBotId: string;
  intervalMs: number;
}

async function setUp(): Promise<Setup> {
  let dbUrl: string | undefined;
  let dbLabel = 'embedded PGlite';
  if (databaseUrl) {
    const name = `agentport_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const version = await admin.query<{ server_version: string }>('SHOW server_version');
      dbLabel = `PostgreSQL ${version.rows[0]?.server_version ?? '?'} (fresh database ${name})`;
    } finally {
      await admin.end();
    }
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    });
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    dbUrl = url.toString();
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agentport-bench-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

  const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), NODE_ENV: 'production' };
  const sandbox = await startProcess({
    name: 'sandbox',
    args: ['--import', 'tsx', sandboxMain, '--port', '0', '--quiet'],
    env: baseEnv,
    ready: isSandboxReady,
    timeoutMs: START_TIMEOUT_MS,
    raiseFileLimit: true,
  });
  const sb = JSON.parse(sandbox.readyLine) as { url: string; openaiBaseUrl: string; cozeBaseUrl: string; token: string; spaceId: string };

  const nodeArgs = flags['platform-node-args'].split(' ').filter(Boolean);
  const gcHook = pathToFileURL(path.join(repoRoot, 'scripts', 'bench', 'gc-hook.mjs')).href;
  let listening = 0;
  const platform = await startProcess({
    name: 'platform',
    args: ['--expose-gc', '--import', gcHook, ...PLATFORM_NODE_FLAGS, ...nodeArgs, serverMain],
    env: {
      ...baseEnv,
      HOST: '127.0.0.1',
      PORT: '0',
      WORKERS: String(workers),
      DATA_DIR: dataDir,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      COZE_API_BASE: sb.cozeBaseUrl,
      COZE_API_TOKEN: sb.token,
      COZE_SPACE_ID: sb.spaceId,
      OPENAI_BASE_URL: sb.openaiBaseUrl,
      OPENAI_API_KEY: 'sk-sandbox',
      LOG_LEVEL: 'warn',
      REGISTER_MAX_PER_IP: String(userCount + 10), // every bench user registers from 127.0.0.1
      BENCH_MEMORY_DIR: dataDir,
      ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    },
    ready: (line) => LISTENING.test(line) && ++listening === workers,
    timeoutMs: START_TIMEOUT_MS,
    raiseFileLimit: true,
  });
  const platformUrl = new URL(listeningUrl(platform.readyLine));
  const sandboxUrl = new URL(sb.url);
  for (const url of [platformUrl, sandboxUrl]) {
    if (url.hostname !== '127.0.0.1') throw new Error(`refusing a non-loopback address: ${url.href}`);
  }

  const base = platformUrl.origin;
  const { token } = await api<{ token: string }>(base, 'POST', '/api/auth/login', ADMIN);
  const bots: BenchBot[] = [];
  for (const [i, intervalMs] of paces.entries()) {
    const cozeBotId = BENCH_BOTS[i]!.id;
    const imported = await api<{ agent: { id: string } }>(base, 'POST', '/console/api/ai-agent/import/coze', { cozeBotId }, token);
    bots.push({ agentId: imported.agent.id, cozeBotId, intervalMs });
  }
  const userTokens: string[] = [];
  for (let i = 0; i < userCount; i++) {
    const user = { email: `bench-user-${i}@agentport.test`, password: 'bench-user-password-1' };
    userTokens.push((await api<{ token: string }>(base, 'POST', '/api/auth/register', user)).token);
  }
  return {
    sandbox,
    platform,
    sandboxUrl,
    platformUrl,
    sandboxToken: sb.token,
    cozeBaseUrl: sb.cozeBaseUrl,
    adminToken: token,
    userTokens,
    bots,
    dbLabel,
    memoryDir: dataDir,
  };
}

// ── One level ────────────────────────────────────────────────────────────────────────────────────
interface CpuSample {
  platform: number;
  sandbox: number;
  generator: number;
  machine: number;
  at: number;
}

function cpuSample(s: Setup): CpuSample {
  return {
    platform: familySum(s.platform.pid, cpuSeconds),
    sandbox: cpuSeconds(s.sandbox.pid),
    generator: cpuSeconds(process.pid),
    machine: machineBusySeconds(),
    at: performance.now(),
  };
}

interface LevelResult {
  concurrency: number;
  directStreams: number;
  /** The longest answer's deltas. */
  deltas: number;
  lengthened: boolean;
  windowMs: number;
  openPlatform: number;
  openDirect: number;
  platform: ArmFigures;
  direct: ArmFigures;
  rssIdle: number;
  rssPlateau: number;
  /** After every stream ended and a full GC. */
  rssAfter: number;
  heapIdle: number;
  heapPlateau: number;
  /** Once the load is gone, after a full GC: above idle, what the platform kept of the chats it served. */
  heapAfter: number;
  /** V8's young generation (gc-hook.mjs): it grows under any load, by as much whatever the load's size. */
  youngIdle: number;
  youngPlateau: number;
  sandboxRssIdle: number;
  sandboxRssPlateau: number;
  cpu: { platform: number; sandbox: number; generator: number; other: number; background: number };
  loopDelayP99: number;
  /** The platform's, over the ramp and the window. */
  platformPauses: PlatformPauses | null;
  tickSpreadP99: number;
  rampMs: number;
  invalid: string[];
}

let nextStreamId = 1;
let gcSeq = 0;

/** What the platform's event loop and garbage collector went through between two reports (gc-hook.mjs). */
interface PlatformPauses {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gc: { count: number; totalMs: number; maxMs: number };
}

/** What gc-hook.mjs reports of a process's heap, summed over the platform's processes. */
interface HeapReport {
  heapUsed: number;
  youngGeneration: number;
  youngGenerationAfter: number;
}

/**
 * Asks each platform process for a full GC (gc-hook.mjs) and returns their JS heap in use afterwards,
 * their young generation's size before and after it, their RSS, and their pauses since the previous
 * call (the worst loop delay, every GC pause).
 */
async function platformAfterGc(s: Setup): Promise<HeapReport & { rss: number; pauses: PlatformPauses | null }> {
  gcSeq += 1;
  const pids = processFamily(s.platform.pid);
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  const rss = () => familySum(s.platform.pid, rssBytes);
  for (let waited = 0; waited < 10_000; waited += 50) {
    await sleep(50);
    try {
      const reports = pids.map(
        (pid) =>
          JSON.parse(readFileSync(path.join(s.memoryDir, `${pid}.json`), 'utf8')) as HeapReport & {
            seq: number;
            sinceLast: PlatformPauses;
          },
      );
      if (reports.some((report) => report.seq !== gcSeq)) continue;
      const pauses: PlatformPauses = {
        loopDelayP99Ms: Math.max(...reports.map((r) => r.sinceLast.loopDelayP99Ms)),
        loopDelayMaxMs: Math.max(...reports.map((r) => r.sinceLast.loopDelayMaxMs)),
        gc: {
          count: reports.reduce((sum, r) => sum + r.sinceLast.gc.count, 0),
          totalMs: reports.reduce((sum, r) => sum + r.sinceLast.gc.totalMs, 0),
          maxMs: Math.max(...reports.map((r) => r.sinceLast.gc.maxMs)),
        },
      };
      const sum = (field: keyof HeapReport) => reports.reduce((total, r) => total + r[field], 0);
      return {
        heapUsed: sum('heapUsed'),
        youngGeneration: sum('youngGeneration'),
        youngGenerationAfter: sum('youngGenerationAfter'),
        rss: rss(),
        pauses,
      };
    } catch {
      // not written yet (or mid-write)
    }
  }
  return { heapUsed: NaN, youngGeneration: NaN, youngGenerationAfter: NaN, rss: rss(), pauses: null };
}

/** What one bot answers during a level, and the chats it gets. */
interface BotAnswer {
  bot: BenchBot;
  deltas: number;
  vars: Record<string, string>;
  expected: Expected;
}

/** Sets each bot's answer (through its agent's custom variables) to `deltasFor` deltas at its pace. */
async function setAnswers(s: Setup, deltasFor: (bot: BenchBot) => number): Promise<BotAnswer[]> {
  const answers: BotAnswer[] = [];
  for (const bot of s.bots) {
    const deltas = deltasFor(bot);
    const vars = { bench_deltas: String(deltas), bench_interval_ms: String(bot.intervalMs), bench_pacing: pacing };
    await api(s.platformUrl.origin, 'PATCH', `/console/api/ai-agent/${bot.agentId}`, { customVariables: vars }, s.adminToken);
    answers.push({ bot, deltas, vars, expected: expectedFor(benchAnswer(deltas), deltas) });
  }
  return answers;
}

/** Stream `id`'s bot (round robin) and user (round robin over the bots' rounds, so every user meets every bot). */
const botOf = (answers: BotAnswer[], id: number): BotAnswer => answers[id % answers.length]!;

function targets(s: Setup, answers: BotAnswer[], agents: Record<Arm, http.Agent>): (arm: Arm, id: number) => StreamTarget {
  return (arm, id) => {
    const content = `bench ${id}`;
    const { bot, vars } = botOf(answers, id);
    const user = Math.floor(id / answers.length) % s.userTokens.length;
    if (arm === 'platform') {
      return {
        agent: agents.platform,
        host: s.platformUrl.hostname,
        port: Number(s.platformUrl.port),
        path: '/api/ai-agent/chat/completions',
        headers: { authorization: `Bearer ${s.userTokens[user]}` },
        body: JSON.stringify({ agentId: bot.agentId, messages: [{ role: 'user', content }], stream: true }),
      };
    }
    return {
      agent: agents.direct,
      host: s.sandboxUrl.hostname,
      port: Number(s.sandboxUrl.port),
      path: '/v3/chat',
      headers: { authorization: `Bearer ${s.sandboxToken}` },
      body: JSON.stringify({
        bot_id: bot.cozeBotId,
        user_id: `bench-direct-${user}`,
        stream: true,
        auto_save_history: true,
        additional_messages: [{ role: 'user', type: 'question', content, content_type: 'text' }],
        custom_variables: vars,
      }),
    };
  };
}

/** When the sandbox received each stream's /v3/chat (wall-clock ms), from its request log; the log is then cleared. */
async function upstreamArrivals(s: Setup): Promise<Map<number, number>> {
  const log = await api<Array<{ path: string; at: number; body: unknown }>>(s.sandboxUrl.origin, 'GET', '/__sandbox/requests');
  await api(s.sandboxUrl.origin, 'DELETE', '/__sandbox/requests');
  const arrivals = new Map<number, number>();
  for (const entry of log) {
    if (entry.path !== '/v3/chat') continue;
    const body = entry.body as { additional_messages?: Array<{ content?: unknown }> } | null;
    const match = /^bench (\d+)$/.exec(String(body?.additional_messages?.[0]?.content ?? ''));
    if (match) arrivals.set(Number(match[1]), entry.at);
  }
  return arrivals;
}

async function runLevel(s: Setup, concurrency: number, seed: number): Promise<LevelResult> {
  const directStreams = Math.max(1, Math.round((concurrency * directShare) / (1 - directShare)));
  const total = concurrency + directStreams;
  const rampMs = (total / rate) * 1000;
  // Answers must outlast the ramp, the settling time and the window, so every stream is open during it.
  const answers = await setAnswers(s, (bot) => Math.max(minDeltas, Math.ceil((rampMs + SETTLE_MS + holdMs + 2_000) / bot.intervalMs)));
  await api(s.sandboxUrl.origin, 'DELETE', '/__sandbox/requests');

  // Arms in a random (seeded) order with exact counts: no aliasing between arrivals and the sandbox's timer.
  const random = seededRandom(seed);
  const arms: Arm[] = [...Array<Arm>(concurrency).fill('platform'), ...Array<Arm>(directStreams).fill('direct')];
  for (let i = arms.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [arms[i], arms[j]] = [arms[j]!, arms[i]!];
  }
  const agents: Record<Arm, http.Agent> = {
    platform: new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: total }),
    direct: new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: total }),
  };
  const target = targets(s, answers, agents);

  // Idle: the platform's live memory before this level's streams (after a full GC, see gc-hook.mjs), its
  // young generation as that GC left it (the idle RSS is read after it), and what the machine does
  // without us.
  const { heapUsed: idleHeap, youngGenerationAfter: youngIdle } = await platformAfterGc(s);
  await sleep(IDLE_MS / 2);
  const idle0 = cpuSample(s);
  await sleep(IDLE_MS / 2);
  const idle1 = cpuSample(s);
  const background =
    (idle1.machine -
      idle0.machine -
      (idle1.platform - idle0.platform) -
      (idle1.sandbox - idle0.sandbox) -
      (idle1.generator - idle0.generator)) /
    ((idle1.at - idle0.at) / 1000);
  const rssIdle = familySum(s.platform.pid, rssBytes);
  const sandboxRssIdle = rssBytes(s.sandbox.pid);

  // Ramp: open-loop arrivals at `rate`, until every stream of the level is open.
  const records: StreamRecord[] = [];
  const finished: Array<Promise<StreamRecord>> = [];
  const levelAbort = new AbortController();
  setMaxListeners(0, levelAbort.signal);
  const onStop = (): void => levelAbort.abort();
  stopStreams.signal.addEventListener('abort', onStop, { once: true });
  const t0 = performance.now();
  for (let i = 0; i < total && !levelAbort.signal.aborted; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const arm = arms[i]!;
    const id = nextStreamId++;
    const { record, done } = runStream(id, arm, target(arm, id), botOf(answers, id).expected, levelAbort.signal);
    records.push(record);
    finished.push(done);
  }
  const rampEnd = performance.now();
  const open = (arm: Arm): number => records.filter((r) => r.arm === arm && Number.isNaN(r.end)).length;

  // The measured window: all streams open.
  await sleep(SETTLE_MS);
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const w0 = cpuSample(s);
  const openPlatform = open('platform');
  const openDirect = open('direct');
  const rss: number[] = [];
  const sandboxRss: number[] = [];
  const windowEnd = w0.at + holdMs;
  for (let n = 0; n < 1_000 && performance.now() < windowEnd - 1 && !levelAbort.signal.aborted; n++) {
    await sleep(Math.min(1_000, windowEnd - performance.now()));
    rss.push(familySum(s.platform.pid, rssBytes));
    sandboxRss.push(rssBytes(s.sandbox.pid));
  }
  const w1 = cpuSample(s);
  loop.disable();
  const windowMs = w1.at - w0.at;
  // Live memory at the plateau: a full GC (gc-hook.mjs), after the window so it does not touch its figures.
  const plateau = await platformAfterGc(s);
  const plateauHeap = plateau.heapUsed;

  // Let every answer end (bounded), then read when the sandbox saw each chat.
  const longest = Math.max(...answers.map((a) => (a.deltas + 2) * a.bot.intervalMs));
  const deadline = setTimeout(() => levelAbort.abort(), longest + (rampEnd - t0) + DRAIN_GRACE_MS);
  await Promise.all(finished);
  clearTimeout(deadline);
  stopStreams.signal.removeEventListener('abort', onStop);
  agents.platform.destroy();
  agents.direct.destroy();
  const arrivals = await upstreamArrivals(s);
  // What the platform keeps once the load is gone: every answer saved, then its next two looks at its
  // requests (QUIET_MS apart) find it quiet and it gives memory back (server/src/memory.ts). Read
  // before the bench's full GC, which would give back for it; that GC then tells the live heap.
  await sleep(2 * QUIET_MS + RELEASE_MS);
  const rssAfter = familySum(s.platform.pid, rssBytes);
  const { heapUsed: heapAfter } = await platformAfterGc(s);

  const grid =
    pacing === 'burst'
      ? new TickGrid(
          records.filter((r) => r.arm === 'direct'),
          fastest,
        )
      : null;
  const due = grid ?? new StreamSchedule((record) => botOf(answers, record.id).bot.intervalMs);
  const window: [number, number] = [w0.at, w1.at];
  const platform = armFigures('platform', records, due, arrivals, window);
  const direct = armFigures('direct', records, due, arrivals, window);
  const secs = windowMs / 1000;
  const used = {
    platform: w1.platform - w0.platform,
    sandbox: w1.sandbox - w0.sandbox,
    generator: w1.generator - w0.generator,
    machine: w1.machine - w0.machine,
  };

  const invalid: string[] = [];
  const directTtftMedian = quantile(direct.ttftRaw, 0.5);
  const directGapP99 = quantile(direct.gaps, 0.99);
  if (direct.errors > 0) invalid.push(`${direct.errors} direct stream(s) failed`);
  if (!(directGapP99 <= 2 * slowest)) invalid.push(`direct inter-chunk gap p99 ${ms(directGapP99)} > 2 × ${slowest} ms`);
  // The sandbox imposes 0–interval (burst) or one interval (spread) before the first delta.
  const ttftLimit = pacing === 'burst' ? fastest / 2 + 75 : slowest + 25;
  if (!(directTtftMedian <= ttftLimit)) invalid.push(`direct TTFT median ${ms(directTtftMedian)} > ${ttftLimit} ms`);
  if (openPlatform < concurrency) invalid.push(`only ${openPlatform} of ${concurrency} platform streams were open in the window`);
  if (grid && !(grid.spreadP99 < fastest * 0.5)) invalid.push(`the sandbox's ticks arrive smeared over ${ms(grid.spreadP99)} (p99)`);

  return {
    concurrency,
    directStreams,
    deltas: Math.max(...answers.map((a) => a.deltas)),
    lengthened: answers.some((a) => a.deltas > minDeltas),
    windowMs,
    openPlatform,
    openDirect,
    platform,
    direct,
    rssIdle,
    rssPlateau: median(rss),
    rssAfter,
    heapIdle: idleHeap,
    heapPlateau: plateauHeap,
    heapAfter,
    youngIdle,
    youngPlateau: plateau.youngGeneration,
    sandboxRssIdle,
    sandboxRssPlateau: median(sandboxRss),
    cpu: {
      platform: used.platform,
      sandbox: used.sandbox,
      generator: used.generator,
      other: (used.machine - used.platform - used.sandbox - used.generator) / secs,
      background,
    },
    loopDelayP99: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    platformPauses: plateau.pauses,
    tickSpreadP99: grid?.spreadP99 ?? NaN,
    rampMs: rampEnd - t0,
    invalid,
  };
}

// ── The floor ────────────────────────────────────────────────────────────────────────────────────
/** Long enough for the floor's first streams to outlast every level at the slowest pace. */
const FLOOR_DELTAS = 2_000;

interface Floor {
  idle: number;
  /** The relay's RSS with each level's number of streams open (median of one sample a second). */
  plateaus: number[];
}

/**
 * What Node itself takes per open stream under this load, to read the platform's memory figures
 * against: a minimal hand-written relay (bench/minimal-relay.mjs: no auth, no database, no checks)
 * takes as many streams as each level held, arriving at the same rate, answered at the same paces,
 * with the platform's V8 flags.
 * Its streams stay open from one level to the next (levels go up, as the platform's do).
 */
async function relayFloor(s: Setup, counts: number[]): Promise<Floor> {
  const relay = await startProcess({
    name: 'minimal relay',
    args: [
      ...PLATFORM_NODE_FLAGS,
      path.join(repoRoot, 'scripts', 'bench', 'minimal-relay.mjs'),
      s.cozeBaseUrl,
      s.sandboxToken,
      BENCH_BOTS[0]!.id,
    ],
    env: { PATH: process.env.PATH ?? '' },
    ready: (line) => line.startsWith('{'),
    timeoutMs: START_TIMEOUT_MS,
    raiseFileLimit: true,
  });
  const { port } = JSON.parse(relay.readyLine) as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    await sleep(IDLE_MS);
    const idle = rssBytes(relay.pid);
    const plateaus: number[] = [];
    let open = 0;
    for (const count of counts) {
      for (; open < count; open++) {
        const variables = { bench_deltas: String(FLOOR_DELTAS), bench_interval_ms: String(paces[open % paces.length]) };
        http
          .request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (response) => response.resume())
          .on('error', () => {}) // cut when the floor is measured
          .end(JSON.stringify({ text: 'hello', variables }));
        await sleep(1000 / rate);
      }
      await sleep(SETTLE_MS + IDLE_MS);
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(rssBytes(relay.pid));
        await sleep(1000);
      }
      const plateau = median(samples);
      plateaus.push(plateau);
      console.log(
        `[bench] minimal relay with ${count} streams: RSS ${mb(idle)} → ${mb(plateau)} = ${((plateau - idle) / count / 1024).toFixed(1)} KB per open stream`,
      );
    }
    return { idle, plateaus };
  } finally {
    agent.destroy();
    await relay.stop();
  }
}

// ── Report ───────────────────────────────────────────────────────────────────────────────────────
interface Derived {
  ttftMedian: number;
  ttftP99: number;
  rawMedian: number;
  rawP99: number;
  upstreamMedian: number;
  upstreamP99: number;
  latencyMedian: number;
  latencyP99: number;
  gapP99: number;
  totalMedian: number;
  throughput: number;
  rssPerStream: number;
  /** The same, without what V8's young generation grew by: what the streams themselves hold. */
  rssPerStreamYoungAside: number;
  rssKeptPerStream: number;
  livePerStream: number;
  platformCpuPer1k: number;
  sandboxCpuPer1k: number;
  errors: number;
}

function derive(r: LevelResult): Derived {
  const { platform: p, direct: d } = r;
  const secs = r.windowMs / 1000;
  return {
    ttftMedian: added(p, d, (f) => f.ttft, 0.5),
    ttftP99: added(p, d, (f) => f.ttft, 0.99),
    rawMedian: added(p, d, (f) => f.ttftRaw, 0.5),
    rawP99: added(p, d, (f) => f.ttftRaw, 0.99),
    upstreamMedian: added(p, d, (f) => f.toUpstream, 0.5),
    upstreamP99: added(p, d, (f) => f.toUpstream, 0.99),
    latencyMedian: added(p, d, (f) => f.latency, 0.5),
    latencyP99: added(p, d, (f) => f.latency, 0.99),
    gapP99: added(p, d, (f) => f.gaps, 0.99),
    totalMedian: added(p, d, (f) => f.total, 0.5),
    throughput: p.windowDeltas / secs,
    rssPerStream: (r.rssPlateau - r.rssIdle) / Math.max(1, r.openPlatform),
    rssPerStreamYoungAside: (r.rssPlateau - r.youngPlateau - (r.rssIdle - r.youngIdle)) / Math.max(1, r.openPlatform),
    rssKeptPerStream: (r.rssAfter - r.rssIdle) / Math.max(1, r.openPlatform),
    livePerStream: (r.heapPlateau - r.heapIdle) / Math.max(1, r.openPlatform),
    platformCpuPer1k: (r.cpu.platform / Math.max(1, p.windowDeltas)) * 1000,
    sandboxCpuPer1k: (r.cpu.sandbox / Math.max(1, p.windowDeltas + d.windowDeltas)) * 1000,
    errors: p.errors + d.errors,
  };
}

function printLevel(r: LevelResult): void {
  const { platform: p, direct: d } = r;
  const x = derive(r);
  const secs = r.windowMs / 1000;
  const row = (label: string, pick: (f: ArmFigures) => Float64Array): string => {
    const q = (f: ArmFigures, at: number): string => ms(quantile(pick(f), at)).padStart(11);
    return `  ${label.padEnd(40)}${q(p, 0.5)}${q(p, 0.99)}   ${q(d, 0.5)}${q(d, 0.99)}   ${signedMs(added(p, d, pick, 0.5)).padStart(9)}${signedMs(added(p, d, pick, 0.99)).padStart(10)}`;
  };
  console.log(`
── ${r.concurrency} platform streams (+${r.directStreams} direct) · up to ${r.deltas} deltas × ${intervalText}${r.lengthened ? ' (lengthened to outlast the ramp)' : ''} · ramp ${(r.rampMs / 1000).toFixed(1)} s at ${rate}/s · window ${secs.toFixed(1)} s
  open in the window: platform ${r.openPlatform}, direct ${r.openDirect}
  errors: platform ${p.errors}/${p.streams}, direct ${d.errors}/${d.streams}${[...p.errorSamples, ...d.errorSamples].map((e) => `\n    · ${e}`).join('')}
  ${''.padEnd(40)}${'platform'.padStart(22)}   ${'direct'.padStart(22)}   ${'added'.padStart(19)}
  ${''.padEnd(40)}${'median'.padStart(11)}${'p99'.padStart(11)}   ${'median'.padStart(11)}${'p99'.padStart(11)}   ${'median'.padStart(9)}${'p99'.padStart(10)}
${row("TTFT (the sandbox's wait removed)", (f) => f.ttft)}
${row("TTFT raw (incl. the sandbox's wait)", (f) => f.ttftRaw)}
${row('  start → sandbox got /v3/chat', (f) => f.toUpstream)}
${row('  start → first byte', (f) => f.firstByte)}
${row('  first delta: relay latency', (f) => f.firstLatency)}
${row('per-delta relay latency (window)', (f) => f.latency)}
${row('inter-chunk gap (window)', (f) => f.gaps)}
${row('total time', (f) => f.total)}
  throughput through the platform: ${x.throughput.toFixed(0)} deltas/s (direct arm ${(d.windowDeltas / secs).toFixed(0)} deltas/s)
  platform RSS: idle ${mb(r.rssIdle)} → plateau ${mb(r.rssPlateau)} = ${(x.rssPerStream / 1024).toFixed(1)} KB per open stream; after the load ${mb(r.rssAfter)} (sandbox ${mb(r.sandboxRssIdle)} → ${mb(r.sandboxRssPlateau)})
  platform V8 young generation: idle ${mb(r.youngIdle)} → plateau ${mb(r.youngPlateau)}; RSS growth without it ${(x.rssPerStreamYoungAside / 1024).toFixed(1)} KB per open stream
  platform JS heap after a full GC: idle ${mb(r.heapIdle)} → plateau ${mb(r.heapPlateau)} = ${(x.livePerStream / 1024).toFixed(1)} KB live per open stream; after the load ${mb(r.heapAfter)}
  CPU in the window (cores): platform ${(r.cpu.platform / secs).toFixed(2)}, sandbox ${(r.cpu.sandbox / secs).toFixed(2)}, generator ${(r.cpu.generator / secs).toFixed(2)}, other ${r.cpu.other.toFixed(2)} (idle background ${r.cpu.background.toFixed(2)}) of ${os.availableParallelism()}
  CPU per 1,000 deltas: platform ${x.platformCpuPer1k.toFixed(3)} s relayed, sandbox ${x.sandboxCpuPer1k.toFixed(3)} s produced
  platform over the ramp and the window: ${pausesText(r.platformPauses)}
  generator event-loop delay p99 ${ms(r.loopDelayP99)}${pacing === 'burst' ? `; sandbox tick burst spread p99 ${ms(r.tickSpreadP99)}` : ''}
  ${r.invalid.length ? `INVALID: measuring side saturated — ${r.invalid.join('; ')}` : 'control arm valid'}`);
}

function pausesText(p: PlatformPauses | null): string {
  if (!p) return 'n/a';
  return `event-loop delay p99 ${ms(p.loopDelayP99Ms)}, max ${ms(p.loopDelayMaxMs)}; GC pauses ${p.gc.count}, ${ms(p.gc.totalMs)} in all, longest ${ms(p.gc.maxMs)}`;
}

function printTable(results: LevelResult[], s: Setup, floor: Floor | null): void {
  const valid = results.filter((r) => r.invalid.length === 0);
  const highest = valid.reduce<LevelResult | null>((best, r) => (!best || r.concurrency > best.concurrency ? r : best), null);
  const cells = (f: (r: LevelResult, x: Derived) => string): string => results.map((r) => ` ${f(r, derive(r))} |`).join('');
  const head = results.map((r) => ` ${r.concurrency} streams${r.invalid.length ? ' (INVALID)' : ''} |`).join('');
  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`;
  // What one more open stream costs: the slope from the level before. Growth from idle also holds
  // what load of any size costs once (V8's young generation grown to its size, code compiled on
  // first use), which divided by the streams looks like a cost per stream.
  // Level i's slope, of readings `values` over levels that held `streams`.
  const slope = (i: number, values: number[], streams: number[]): string => {
    // Only from fewer streams: between levels of one size the slope would divide by nothing.
    const added = i > 0 ? streams[i]! - streams[i - 1]! : 0;
    return added > 0 ? kb((values[i]! - values[i - 1]!) / added) : '—';
  };
  const openStreams = results.map((r) => r.openPlatform);
  const concurrencies = results.map((r) => r.concurrency);
  const slopes = (pick: (r: LevelResult) => number): string => {
    const values = results.map(pick);
    return results.map((_, i) => ` ${slope(i, values, openStreams)} |`).join('');
  };
  const lines = [
    `Machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, ${s.dbLabel}, platform ${workers > 1 ? `${workers} worker processes (WORKERS=${workers})` : 'one process'}.`,
    `Load: open-loop arrivals at ${rate}/s from ${userCount} user${userCount > 1 ? 's' : ''} to ${botCount} agent${botCount > 1 ? 's' : ''}, answers of ≥ ${minDeltas} deltas ${intervalText} apart (${pacing === 'spread' ? 'spread pacing: each stream at its own phase' : 'burst pacing: every stream on the same tick'}), ${Math.round(directShare * 100)} % of chats to the sandbox directly (control arm), ${(holdMs / 1000).toFixed(0)} s window with every stream open.`,
    '',
    `| Figure |${head} Target |`,
    `|---|${results.map(() => '---|').join('')}---|`,
    `| Control arm (direct) |${cells((r) => (r.invalid.length ? 'saturated' : 'valid'))} valid |`,
    `| Errors / content mismatches |${cells((r, x) => `${x.errors} of ${r.platform.streams + r.direct.streams}`)} 0 |`,
    `| Added TTFT, median |${cells((_, x) => signedMs(x.ttftMedian))} < 5 ms |`,
    `| Added TTFT, p99 |${cells((_, x) => signedMs(x.ttftP99))} < 50 ms |`,
    `| Added TTFT incl. the sandbox's wait, median / p99 |${cells((_, x) => `${signedMs(x.rawMedian)} / ${signedMs(x.rawP99)}`)} — |`,
    `| Added time to reach upstream, median / p99 |${cells((_, x) => `${signedMs(x.upstreamMedian)} / ${signedMs(x.upstreamP99)}`)} — |`,
    `| Added per-delta latency, median / p99 |${cells((_, x) => `${signedMs(x.latencyMedian)} / ${signedMs(x.latencyP99)}`)} — |`,
    `| Added inter-chunk gap, p99 |${cells((_, x) => signedMs(x.gapP99))} — |`,
    `| Added total time, median |${cells((_, x) => signedMs(x.totalMedian))} — |`,
    `| Deltas/s through the platform |${cells((_, x) => x.throughput.toFixed(0))} — |`,
    `| Platform RSS growth per open stream (from idle) |${cells((_, x) => kb(x.rssPerStream))} — |`,
    `| … of which not V8's young generation (it grows once under any load) |${cells((_, x) => kb(x.rssPerStreamYoungAside))} — |`,
    `| Platform RSS still held per stream once the load is gone (from idle) |${cells((_, x) => kb(x.rssKeptPerStream))} — |`,
    `| Platform RSS per added open stream (plateau, slope from the level before) |${slopes((r) => r.rssPlateau)} < 64 KB |`,
    `| Platform RSS held per added stream once the load is gone (slope from the level before) |${slopes((r) => r.rssAfter)} ≈ 0 |`,
    `| The floor: a minimal Node relay's RSS per open stream, from idle / per added stream |${results
      .map((r, i) =>
        floor ? ` ${kb((floor.plateaus[i]! - floor.idle) / r.concurrency)} / ${slope(i, floor.plateaus, concurrencies)} |` : ' n/a |',
      )
      .join('')} — |`,
    `| Platform live JS heap per open stream (after a full GC) |${cells((_, x) => kb(x.livePerStream))} < 64 KB |`,
    `| Platform event-loop delay p99 / max; longest GC pause |${cells((r) =>
      r.platformPauses
        ? `${ms(r.platformPauses.loopDelayP99Ms)} / ${ms(r.platformPauses.loopDelayMaxMs)}; ${ms(r.platformPauses.gc.maxMs)}`
        : 'n/a',
    )} — |`,
    `| Platform CPU s per 1,000 relayed deltas |${cells((_, x) => x.platformCpuPer1k.toFixed(3))} — |`,
    `| Sandbox CPU s per 1,000 produced deltas |${cells((_, x) => x.sandboxCpuPer1k.toFixed(3))} — |`,
    `| CPU cores used: platform / sandbox / generator / other |${cells((r) => {
      const secs = r.windowMs / 1000;
      return `${(r.cpu.platform / secs).toFixed(2)} / ${(r.cpu.sandbox / secs).toFixed(2)} / ${(r.cpu.generator / secs).toFixed(2)} / ${r.cpu.other.toFixed(2)}`;
    })} — |`,
    '',
    highest
      ? `Highest concurrency whose control arm stayed valid: ${highest.concurrency} platform streams. At 1,000 streams × ${deltasPerStream.toFixed(1)} deltas/s the platform would need ≈ ${(derive(highest).platformCpuPer1k * deltasPerStream).toFixed(2)} cores at that level's CPU per delta (one Node process runs its JavaScript on one core: WORKERS spreads them).`
      : 'No level had a valid control arm: the figures above measure the machine, not the platform.',
    '"Added" = platform arm − direct arm at the same quantile. TTFT = request start → sandbox received the chat + the first delta\'s relay latency; the sandbox\'s own wait before the first delta (one interval with spread pacing, 0–interval with burst, the same in both arms) is removed, the raw row keeps it. Total times include one forced full GC of the platform, after the window.',
  ];
  console.log(`\n${lines.join('\n')}`);
}

// ── Main ─────────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const maxLevel = Math.max(...levels);
  const maxTotal = maxLevel + Math.round((maxLevel * directShare) / (1 - directShare));
  const selfLimit = openFilesLimit('self');
  if (selfLimit !== null && selfLimit < maxTotal + 256) {
    console.warn(
      `[bench] WARNING: this process may open ${selfLimit} files but needs ≈ ${maxTotal + 256} sockets; raise \`ulimit -n\` before \`npm run bench\`.`,
    );
  }
  console.log(`[bench] starting sandbox and platform (${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'})…`);
  const s = await setUp();
  const platformLimit = openFilesLimit(s.platform.pid);
  if (platformLimit !== null && platformLimit < 2 * maxLevel + 256) {
    console.warn(
      `[bench] WARNING: the platform may open ${platformLimit} files; ${maxLevel} streams need ≈ ${2 * maxLevel + 256} (client + upstream socket each). Raise the hard \`ulimit -n\`.`,
    );
  }
  console.log(
    `[bench] platform ${s.platformUrl.origin} (pid ${s.platform.pid}, fd limit ${platformLimit ?? '?'}), sandbox ${s.sandboxUrl.origin} (pid ${s.sandbox.pid}), ${os.availableParallelism()} cores`,
  );

  // Warm-up: JIT, connection pools, the database's first writes; not measured.
  {
    const answers = await setAnswers(s, () => 20);
    const agents: Record<Arm, http.Agent> = { platform: new http.Agent({ keepAlive: true }), direct: new http.Agent({ keepAlive: true }) };
    const target = targets(s, answers, agents);
    const warm: Array<Promise<StreamRecord>> = [];
    for (let i = 0; i < 40; i++) {
      const arm: Arm = i % 4 === 3 ? 'direct' : 'platform';
      const id = nextStreamId++;
      warm.push(runStream(id, arm, target(arm, id), botOf(answers, id).expected, stopStreams.signal).done);
      await sleep(25);
    }
    const failed = (await Promise.all(warm)).filter((r) => !r.ok);
    agents.platform.destroy();
    agents.direct.destroy();
    if (failed.length)
      throw new Error(
        `warm-up chats failed: ${failed
          .slice(0, 3)
          .map((r) => `${r.arm}: ${r.error ?? '?'}`)
          .join('; ')}`,
      );
  }
  // Every level starts from a platform that gave back its memory once quiet (server/src/memory.ts), the
  // first as the later ones. Its first look after the warm-up still counts the warm-up's chats, the
  // next two find it quiet. Otherwise the first level started from what start-up and the warm-up left
  // (V8's young generation grown, their garbage), which its load then reused: 1.6 KB per open stream
  // from idle at 300 streams in one run, 108 KB at 600 in the same run.
  await sleep(3 * QUIET_MS + RELEASE_MS);

  const results: LevelResult[] = [];
  for (const [i, concurrency] of levels.entries()) {
    if (stopStreams.signal.aborted) break;
    const result = await runLevel(s, concurrency, Number(flags.seed) + i);
    results.push(result);
    printLevel(result);
  }
  // After the levels, with the platform idle: the floor's streams share the machine with nothing else.
  const floor = stopStreams.signal.aborted
    ? null
    : await relayFloor(
        s,
        results.map((r) => r.concurrency),
      );
  printTable(results, s, floor);
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (error) {
  console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup();
  process.exit(1);
}
