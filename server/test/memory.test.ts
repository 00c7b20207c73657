// Memory given back once a load is over (memory.ts): when the collections run, on a mocked clock,
// and that they free what a load left behind.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { collectGarbage, GROWTH_BYTES, QUIET_MS, QuietCollection } from '../src/memory.js';

const MB = 1024 * 1024;

describe('when the memory is given back', () => {
  let size: number;
  let collections: number;
  let quiet: QuietCollection;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    size = 60 * MB;
    collections = 0;
    quiet = new QuietCollection({
      heapSize: () => size,
      collect: async () => {
        collections++;
        size -= 40 * MB;
      },
    });
  });
  afterEach(() => mock.timers.reset());

  /** Lets the collection that a timer started finish. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  test('after a load: once no request has been in flight for the quiet time', async () => {
    for (let i = 0; i < 600; i++) quiet.requestStarted();
    size += 60 * MB;
    for (let i = 0; i < 599; i++) quiet.requestEnded();
    mock.timers.tick(QUIET_MS * 2);
    assert.equal(collections, 0, 'not while a stream is still open');
    quiet.requestEnded();
    mock.timers.tick(QUIET_MS - 1);
    assert.equal(collections, 0, 'not before the quiet time');
    mock.timers.tick(1);
    await settle();
    assert.equal(collections, 1);
    mock.timers.tick(QUIET_MS * 3);
    await settle();
    assert.equal(collections, 1, 'once per quiet time');
  });

  test('a request during the quiet time starts it again', async () => {
    quiet.requestStarted();
    size += 60 * MB;
    quiet.requestEnded();
    mock.timers.tick(QUIET_MS - 1);
    quiet.requestStarted();
    quiet.requestEnded();
    mock.timers.tick(QUIET_MS - 1);
    await settle();
    assert.equal(collections, 0);
    mock.timers.tick(1);
    await settle();
    assert.equal(collections, 1);
  });

  test('not when the process did not grow since it last gave memory back (a health check now and then)', async () => {
    for (let check = 0; check < 5; check++) {
      quiet.requestStarted();
      size += GROWTH_BYTES / 8;
      quiet.requestEnded();
      mock.timers.tick(QUIET_MS);
      await settle();
    }
    assert.equal(collections, 0);
    quiet.requestStarted();
    size += GROWTH_BYTES;
    quiet.requestEnded();
    mock.timers.tick(QUIET_MS);
    await settle();
    assert.equal(collections, 1, 'growth adds up from the last time');
    quiet.requestStarted();
    size += GROWTH_BYTES / 2;
    quiet.requestEnded();
    mock.timers.tick(QUIET_MS);
    await settle();
    assert.equal(collections, 1, 'measured from the size after the last collection');
  });
});

test('a streamed response counts as in flight until it ends', async () => {
  const events: string[] = [];
  let endStream!: () => void;
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('data: first\n\n');
    endStream = () => {
      events.push('stream ended');
      response.end();
    };
  });
  let collected!: () => void;
  const collection = new Promise<void>((resolve) => (collected = resolve));
  const quiet = new QuietCollection({
    quietMs: 20,
    growthBytes: 0,
    collect: async () => {
      events.push('collected');
      collected();
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
            // Longer than the quiet time while the stream is open, then its end.
            setTimeout(() => endStream(), 100);
          });
          response.on('end', resolve).resume();
        })
        .on('error', reject);
    });
    await collection;
    assert.deepEqual(events, ['stream ended', 'collected']);
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
