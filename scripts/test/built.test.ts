// Tests of built output say when the build is older than its sources, rather than test the last build.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildProblem, staleBuild } from '../lib/built.mjs';

describe('staleBuild', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'agentport-built-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  /** Writes `file` under the fake checkout with its modification time `secondsAgo` in the past. */
  const write = (file: string, secondsAgo: number): void => {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, '');
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(full, at, at);
  };
  const age = (dir: string, secondsAgo: number): void => {
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(path.join(root, dir), at, at);
  };

  test('no build yet', () => {
    assert.equal(staleBuild('server', root), 'server/dist/main.js is missing: run npm run build');
  });

  test('built after the last change to its sources: current', () => {
    write('server/src/chat/route.ts', 60);
    age('server/src/chat', 60);
    age('server/src', 60);
    write('server/dist/main.js', 30);
    assert.equal(staleBuild('server', root), null);
  });

  test('a source changed since the build, however deep: names it', () => {
    write('server/src/chat/route.ts', 10);
    assert.equal(
      staleBuild('server', root),
      'server/dist is older than server/src (server/src/chat/route.ts changed since the build): run npm run build',
    );
  });

  test('web: its page and its sources count', () => {
    write('web/src/main.ts', 60);
    age('web/src', 60);
    write('web/dist/index.html', 30);
    assert.equal(staleBuild('web', root), null);
    write('web/index.html', 10);
    assert.equal(staleBuild('web', root), 'web/dist is older than web/index.html: run npm run build');
  });

  test('npm start: a missing build stops the start, a stale one is only a warning, and an image without sources is current', () => {
    const image = mkdtempSync(path.join(tmpdir(), 'agentport-image-'));
    try {
      assert.deepEqual(buildProblem('server', image), { missing: true, problem: 'server/dist/main.js is missing' });
      write('web/src/main.ts', 5);
      assert.deepEqual(buildProblem('web', root), {
        missing: false,
        problem: 'web/dist is older than web/src (web/src/main.ts changed since the build)',
      });
      mkdirSync(path.join(image, 'server', 'dist'), { recursive: true });
      writeFileSync(path.join(image, 'server', 'dist', 'main.js'), '');
      assert.equal(buildProblem('server', image), null);
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });
});
