// Memory given back once a load is over (memory.ts): when the collections run, on a mocked clock,
// and that they free what a load left behind.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { collectGarbage, GROWTH_BYTES, QUIET_MS, QUIET_REQUESTS, QuietCollection } from '../src/memory.js';

const MB = 1024 * 1024;

describe('when the memory is given back', () => {
  let size: number;
  let collections: number;
  let quiet: QuietCollection;
  let looks: NodeJS.Timeout;
  /** Lets the collection that a look started finish. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Lets `ms` pass, a look at a time. */
  const pass = async (ms: number) => {
    for (let at = 0; at < ms; at += QUIET_MS) {
      mock.timers.tick(QUIET_MS);
      await settle();
    }
  };

  beforeEach(async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    size = 60 * MB;
    collections = 0;
    quiet = new QuietCollection({
      heapSize: () => size,
      collect: async () => {
        collections++;
        size -= 40 * MB;
      },
    });
    looks = quiet.start();
    // Two quiet looks collect what start-up left.
    await pass(QUIET_MS);
    assert.equal(collections, 0, 'one quiet look is not enough');
    await pass(QUIET_MS);
    assert.equal(collections, 1, 'after start-up');
    collections = 0;
  });
  afterEach(() => {
    clearInterval(looks);
    mock.timers.reset();
  });

  test('after a load: at the second look in a row that finds no request in flight', async () => {
    for (let i = 0; i < 600; i++) quiet.requestStarted();
    size += 60 * MB;
    for (let i = 0; i < 599; i++) quiet.requestEnded();
    await pass(QUIET_MS * 3);
    assert.equal(collections, 0, 'not while a stream is still open');
    quiet.requestEnded();
    await pass(QUIET_MS);
    assert.equal(collections, 0, 'not at the first look after it');
    mock.timers.tick(QUIET_MS - 1);
    await settle();
    assert.equal(collections, 0, 'not before the second');
    mock.timers.tick(1);
    await settle();
    assert.equal(collections, 1);
    await pass(QUIET_MS * 3);
    assert.equal(collections, 1, 'once for the load');
  });

  test('not while many requests start, each of them short', async () => {
    size += 60 * MB;
    for (let look = 0; look < 3; look++) {
      for (let i = 0; i <= QUIET_REQUESTS; i++) {
        quiet.requestStarted();
        quiet.requestEnded();
      }
      await pass(QUIET_MS);
    }
    assert.equal(collections, 0, 'a busy server with no request in flight at the look');
    await pass(2 * QUIET_MS);
    assert.equal(collections, 1, 'once they stopped');
  });

  test('health checks now and then neither keep it from giving back nor make it collect', async () => {
    size += 60 * MB;
    // A check every 3 s: more often than the looks, fewer than QUIET_REQUESTS between two.
    const check = () => {
      quiet.requestStarted();
      size += GROWTH_BYTES / 64;
      quiet.requestEnded();
    };
    for (let second = 0; second < 12 * QUIET_MS; second += 3_000) {
      check();
      mock.timers.tick(3_000);
      await settle();
    }
    assert.equal(collections, 1, 'the load given back, and no more for the checks');
    // Their growth adds up from the size after the last collection.
    size += GROWTH_BYTES;
    await pass(QUIET_MS);
    assert.equal(collections, 2);
  });
});

test('a streamed response counts as in flight until it ends', async () => {
  const events: string[] = [];
  let endStream!: () => void;
  const server = http.createServer((request, response) => {
    events.push('stream started');
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('data: first\n\n');
    endStream = () => {
      events.push('stream ended');
      response.end();
    };
  });
  let collectedAfterTheStream!: () => void;
  const collection = new Promise<void>((resolve) => (collectedAfterTheStream = resolve));
  const quiet = new QuietCollection({
    quietMs: 20,
    growthBytes: 0, // every quiet look collects
    collect: async () => {
      events.push('collected');
      if (events.includes('stream ended')) collectedAfterTheStream();
    },
  });
  quiet.watch(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      http
        .get({ port, host: '127.0.0.1' }, (response) => {
          response.once('data', () => {
            // Several looks while the stream is open, then its end.
            setTimeout(() => endStream(), 100);
          });
          response.on('end', resolve).resume();
        })
        .on('error', reject);
    });
    await collection;
    const during = events.slice(events.indexOf('stream started'), events.indexOf('stream ended'));
    assert.deepEqual(during, ['stream started'], 'no collection while the stream is open');
  } finally {
    server.close();
  }
});

test('the collections free what a load left behind', () => {
  let load: Array<{ id: number; text: string }> | null = Array.from({ length: 200_000 }, (_, id) => ({ id, text: `delta ${id}` }));
  // Some of it outlives the load, scattered over the heap, as a few conversations' state would.
  const kept = load.filter((_, i) => i % 50 === 0);
  load = null;
  const before = v8.getHeapStatistics().total_heap_size;
  collectGarbage();
  const after = v8.getHeapStatistics().total_heap_size;
  assert.ok(before - after > 8 * MB, `the heap went from ${(before / MB).toFixed(1)} MB to ${(after / MB).toFixed(1)} MB`);
  assert.equal(kept.length, 4000);
});
