// `node --import tsx scripts/bench/relay-floor.ts [--levels 300,600]`: how much RSS a minimal
// hand-written Node relay (minimal-relay.mjs) takes per open stream under the bench's default load
// (chats opened at 50 a second, answers paced 50 to 100 ms a delta, held open), to read the
// platform's figures against: what any Node process pays for a stream's two HTTP connections, and
// not the platform's own doing. Prints the relay's RSS at idle and at each level's plateau.
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BENCH_BOTS } from '@agentport/sandbox';
import { rssBytes } from './procs.js';
import { isSandboxReady, repoRoot, sandboxMain, startProcess, stopAllProcesses } from '../lib/processes.js';

const { values } = parseArgs({ options: { levels: { type: 'string', default: '300,600' } } });
const levels = values.levels.split(',').map(Number);
const ARRIVALS_PER_SECOND = 50;
const INTERVALS_MS = [50, 60, 70, 80, 90, 100];
const SETTLE_MS = 3_000;
const SAMPLES = 5; // one a second; their median is the plateau
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const sandbox = await startProcess({
  name: 'sandbox',
  args: ['--import', 'tsx', sandboxMain, '--port', '0', '--quiet'],
  env,
  ready: isSandboxReady,
  raiseFileLimit: true,
});
const sb = JSON.parse(sandbox.readyLine) as { cozeBaseUrl: string; token: string };
const relay = await startProcess({
  name: 'minimal relay',
  args: [path.join(repoRoot, 'scripts', 'bench', 'minimal-relay.mjs'), sb.cozeBaseUrl, sb.token, BENCH_BOTS[0]!.id],
  env,
  ready: (line) => line.startsWith('{'),
  raiseFileLimit: true,
});
const { port } = JSON.parse(relay.readyLine) as { port: number };
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

try {
  await sleep(2_000);
  const idle = rssBytes(relay.pid);
  console.log(`minimal relay (pid ${relay.pid}) idle: ${mb(idle)}`);
  let open = 0;
  for (const level of levels) {
    for (; open < level; open++) {
      const intervalMs = INTERVALS_MS[open % INTERVALS_MS.length]!;
      // Answers long enough to outlast every level; the streams are cut when the run ends.
      const variables = { bench_deltas: '100000', bench_interval_ms: String(intervalMs) };
      http
        .request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (response) => response.resume())
        .on('error', () => {})
        .end(JSON.stringify({ text: 'hello', variables }));
      await sleep(1000 / ARRIVALS_PER_SECOND);
    }
    await sleep(SETTLE_MS);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      samples.push(rssBytes(relay.pid));
      await sleep(1_000);
    }
    const plateau = samples.sort((a, b) => a - b)[Math.floor(SAMPLES / 2)]!;
    console.log(
      `${level} open streams: plateau ${mb(plateau)}, ${((plateau - idle) / level / 1024).toFixed(1)} KB per open stream from idle`,
    );
  }
} finally {
  agent.destroy();
  await stopAllProcesses();
}
