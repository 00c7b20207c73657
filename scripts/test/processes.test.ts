// The one way tests and scripts start a server process: ready on its line, a timeout, a clean stop.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { listeningUrl, PLATFORM_NODE_FLAGS, repoRoot, startProcess } from '../lib/processes.js';

/** `node -e <script>`: a stand-in server, so that these tests need no build. */
const nodeEval = (script: string): string[] => ['-e', script];
const LISTENS = "console.log('starting'); console.log('agentport listening on http://127.0.0.1:4321'); setInterval(() => {}, 1000);";

describe('startProcess', () => {
  test('resolves on the ready line, with the lines before it, and stop() ends the process', async () => {
    const seen: string[] = [];
    const server = await startProcess({
      name: 'stand-in',
      args: nodeEval(LISTENS),
      env: process.env,
      ready: (line) => line.includes('listening on'),
      onLine: (line) => seen.push(line),
    });
    assert.equal(listeningUrl(server.readyLine), 'http://127.0.0.1:4321');
    assert.deepEqual(seen, ['starting', 'agentport listening on http://127.0.0.1:4321']);
    await server.stop();
    assert.deepEqual(await server.exited, { code: null, signal: 'SIGTERM' });
  });

  test('a process that ignores SIGTERM is killed after the grace time', async () => {
    const stubborn = await startProcess({
      name: 'stubborn',
      args: nodeEval(`process.on('SIGTERM', () => {}); ${LISTENS}`),
      env: process.env,
      ready: (line) => line.includes('listening on'),
    });
    await stubborn.stop(200);
    assert.equal((await stubborn.exited).signal, 'SIGKILL');
  });

  test('a process that exits before it is ready rejects with its last output, stderr included', async () => {
    await assert.rejects(
      startProcess({
        name: 'broken',
        args: nodeEval("console.error('PORT must be 0-65535'); process.exit(3);"),
        env: process.env,
        ready: (line) => line.includes('listening on'),
      }),
      /^Error: broken exited \(3\) before it was ready:\nPORT must be 0-65535$/,
    );
  });

  test('a process that never gets ready rejects after the timeout and is killed', async () => {
    let pid = 0;
    await assert.rejects(
      startProcess({
        name: 'silent',
        args: nodeEval('console.log(process.pid); setInterval(() => {}, 1000);'),
        env: process.env,
        onLine: (line) => {
          pid = Number(line);
        },
        ready: () => false,
        // Long enough for Node to start and print its pid on a busy CI machine (1 s was not, once).
        timeoutMs: 3_000,
      }),
      /^Error: silent did not start within 3000 ms:/,
    );
    assert.ok(pid > 0);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'killed, not left running');
  });

  test('raiseFileLimit: the child may open as many files as the hard limit allows', async () => {
    const child = await startProcess({
      name: 'limits',
      args: nodeEval(
        "console.log(require('fs').readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\\s+(\\S+)\\s+(\\S+)/m).slice(1).join(' '));",
      ),
      env: process.env,
      ready: () => true,
      raiseFileLimit: true,
    });
    const [soft, hard] = child.readyLine.split(' ');
    assert.equal(soft, hard);
    await child.exited;
  });
});

describe("the platform's V8 flags", () => {
  test('npm start and the Dockerfile start the platform with them', () => {
    const start = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
      .start;
    assert.equal(start, `node ${PLATFORM_NODE_FLAGS.join(' ')} scripts/start.mjs`);
    const cmd = /^CMD (.+)$/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'))?.[1];
    assert.deepEqual(JSON.parse(cmd ?? 'null'), ['node', ...PLATFORM_NODE_FLAGS, 'server/dist/main.js']);
  });
});
