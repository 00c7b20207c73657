// The relay of running answers between instances (live-answers.ts, follow-answer.ts), on a
// notification channel of its own and a mocked clock: what is published, when, and how a follower
// joins the pieces.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { AnswerFollowers, TextSoFar } from '../src/chat/follow-answer.js';
import {
  FOLLOW_CHANNEL,
  FOLLOW_RENEW_MS,
  LIVE_CHANNEL,
  LiveAnswers,
  PIECE_CHARS,
  PUBLISH_INTERVAL_MS,
  type LiveMessage,
} from '../src/chat/live-answers.js';

/** NOTIFY within one process, as PostgreSQL delivers it: to every listener of the channel, in order. */
function channels() {
  const handlers = new Map<string, Array<(payload: string) => void>>();
  const sent: Array<{ channel: string; payload: string }> = [];
  return {
    sent,
    async listen(channel: string, handler: (payload: string) => void) {
      handlers.set(channel, [...(handlers.get(channel) ?? []), handler]);
    },
    async notify(channel: string, payload: string) {
      assert.ok(Buffer.byteLength(payload) < 8000, 'a NOTIFY payload is under 8000 bytes');
      sent.push({ channel, payload });
      for (const handler of handlers.get(channel) ?? []) handler(payload);
    },
    published: () => sent.filter((s) => s.channel === LIVE_CHANNEL).map((s) => JSON.parse(s.payload) as LiveMessage),
  };
}

describe('the streaming side', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 1_000_000;
    mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
  });
  afterEach(() => mock.timers.reset());
  const tick = async (ms: number) => {
    clock += ms;
    mock.timers.tick(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };

  async function setUp() {
    const db = channels();
    const live = new LiveAnswers(db, { now: () => clock });
    await live.start();
    const source = { content: '', reasoning: '', working: false };
    const end = live.register('m1', source);
    return { db, live, source, end };
  }
  const follow = (db: ReturnType<typeof channels>, c: number, r = 0, m = 'm1') => db.notify(FOLLOW_CHANNEL, JSON.stringify({ m, c, r }));

  test('nobody follows: nothing is published, however much the answer grows, nor at its end', async () => {
    const { db, source, end } = await setUp();
    for (let i = 0; i < 100; i++) {
      source.content += `delta ${i} `;
      await tick(PUBLISH_INTERVAL_MS);
    }
    await end();
    assert.deepEqual(db.published(), []);
  });

  test('a follower gets what it lacks from its offset at once, then what comes, gathered per interval', async () => {
    const { db, live, source } = await setUp();
    source.content = 'Hello, wor';
    await follow(db, 4);
    await live.flushed();
    assert.deepEqual(db.published(), [{ m: 'm1', c: [4, 'o, wor'], w: false }]);
    source.content += 'ld';
    source.content += '. And';
    source.reasoning += 'Hm.';
    await tick(PUBLISH_INTERVAL_MS);
    assert.deepEqual(db.published().slice(1), [
      { m: 'm1', r: [0, 'Hm.'] },
      { m: 'm1', c: [10, 'ld. And'], w: false },
    ]);
    await tick(PUBLISH_INTERVAL_MS);
    assert.equal(db.published().length, 3, 'nothing new, nothing sent');
    source.working = true;
    await tick(PUBLISH_INTERVAL_MS);
    assert.deepEqual(db.published().at(-1), { m: 'm1', w: true });
  });

  test('long text goes in pieces of at most PIECE_CHARS, each with its offset', async () => {
    const { db, live, source } = await setUp();
    source.content = '\u0001'.repeat(PIECE_CHARS * 2 + 5); // escaped as \u0001: the largest JSON per character
    await follow(db, 0);
    await live.flushed();
    const pieces = db.published().map((message) => message.c!);
    assert.deepEqual(
      pieces.map(([offset, text]) => [offset, text.length]),
      [
        [0, PIECE_CHARS],
        [PIECE_CHARS, PIECE_CHARS],
        [PIECE_CHARS * 2, 5],
      ],
    );
  });

  test('publishing stops when the follower stops renewing, and a renewal from further back resends from there', async () => {
    const { db, live, source } = await setUp();
    source.content = 'abc';
    await follow(db, 0);
    await tick(3 * FOLLOW_RENEW_MS + PUBLISH_INTERVAL_MS);
    assert.equal(live.isFollowed('m1'), false);
    const count = db.published().length;
    source.content += 'def';
    await tick(PUBLISH_INTERVAL_MS * 4);
    assert.equal(db.published().length, count, 'nothing published for nobody');
    await follow(db, 1);
    await live.flushed();
    assert.deepEqual(db.published().at(-1), { m: 'm1', c: [1, 'bcdef'], w: false });
  });

  test('its end is told to followers, and to a follow request that crossed it', async () => {
    const { db, source, end } = await setUp();
    source.content = 'abc';
    await follow(db, 3);
    await end();
    assert.deepEqual(db.published().at(-1), { m: 'm1', end: true });
    const count = db.published().length;
    await follow(db, 3);
    await tick(0);
    assert.equal(db.published().length, count + 1);
    assert.deepEqual(db.published().at(-1), { m: 'm1', end: true });
  });

  test('a follow request for an answer streaming elsewhere, or a malformed one, publishes nothing', async () => {
    const { db } = await setUp();
    await follow(db, 0, 0, 'another');
    await db.notify(FOLLOW_CHANNEL, 'not json');
    await db.notify(FOLLOW_CHANNEL, JSON.stringify({ m: 'm1', c: -1, r: 0 }));
    await tick(PUBLISH_INTERVAL_MS);
    assert.deepEqual(db.published(), []);
  });
});

describe('the following side', () => {
  test('TextSoFar joins pieces by offset: repeats and overlaps add nothing twice, early pieces wait for the gap', () => {
    const text = new TextSoFar('Hello');
    assert.equal(text.take(0, 'Hel'), '');
    assert.equal(text.take(3, 'lo, w'), ', w');
    assert.equal(text.take(11, 'd!'), '', 'beyond a gap: kept for later');
    assert.equal(text.take(8, 'orl'), 'orld!');
    assert.equal(text.take(8, 'orld!'), '');
    assert.equal(text.text, 'Hello, world!');
  });

  test('AnswerFollowers hands each live message to the followers of its answer only', async () => {
    const db = channels();
    const followers = new AnswerFollowers(db);
    await followers.start();
    const got: LiveMessage[] = [];
    const unsubscribe = followers.subscribe('m1', (message) => got.push(message));
    await db.notify(LIVE_CHANNEL, JSON.stringify({ m: 'm2', c: [0, 'other'] }));
    await db.notify(LIVE_CHANNEL, JSON.stringify({ m: 'm1', c: [0, 'mine'] }));
    unsubscribe();
    await db.notify(LIVE_CHANNEL, JSON.stringify({ m: 'm1', c: [4, ' later'] }));
    assert.deepEqual(got, [{ m: 'm1', c: [0, 'mine'] }]);
    await followers.follow({ m: 'm1', c: 4, r: 0 });
    assert.deepEqual(JSON.parse(db.sent.at(-1)!.payload), { m: 'm1', c: 4, r: 0 });
    assert.equal(db.sent.at(-1)!.channel, FOLLOW_CHANNEL);
  });
});
