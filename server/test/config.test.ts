// Settings are read once at start-up: a value that would break the platform stops the start, naming the setting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { readConfig } from '../src/config.js';
import { SETTINGS } from '../src/env.js';

const COZE = { COZE_API_TOKEN: 'pat_x', COZE_SPACE_ID: '1' };

/** Every numeric setting with values out of its range: zero where zero makes no sense, and the absurd. */
const OUT_OF_RANGE: [string, string[]][] = [
  ['PORT', ['65536', '-1']],
  ['WORKERS', ['0', '100000']],
  ['OPENAI_IDLE_TIMEOUT_MS', ['0', '99', '86400000']],
  ['COZE_LIST_CACHE_SECONDS', ['0', '31536000']],
  ['MAX_BODY_BYTES', ['0', '1024', '10000000000']],
  ['AUTH_TOKEN_TTL_DAYS', ['0', '36500']],
  ['LOGIN_MAX_FAILURES', ['0']],
  ['LOGIN_MAX_FAILURES_PER_IP', ['0']],
  ['LOGIN_WINDOW_MINUTES', ['0', '525600']],
  ['CHAT_LEASE_SECONDS', ['0', '86400']],
  ['COZE_CONNECT_TIMEOUT_MS', ['0', '86400000']],
  ['COZE_IDLE_TIMEOUT_MS', ['0', '86400000']],
  ['COZE_MAX_RETRIES', ['-1', '11']],
];

describe('readConfig', () => {
  test('the documented defaults', () => {
    const config = readConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.workers, 1);
    assert.equal(config.openai.idleTimeoutMs, 60_000);
    assert.equal(config.cozeListCacheSeconds, 60);
    assert.equal(config.bodyLimitBytes, 1_048_576);
    assert.equal(config.tokenTtlDays, 30);
    assert.deepEqual(config.login, { maxFailuresPerEmail: 10, maxFailuresPerIp: 50, windowMinutes: 15 });
    assert.equal(config.chatLeaseSeconds, 30);
  });

  test('a value out of its range stops the start with a message naming the setting and the range', () => {
    for (const [name, values] of OUT_OF_RANGE) {
      for (const value of values) {
        assert.throws(
          () => readConfig({ ...COZE, [name]: value }),
          (error: Error) => error.message.startsWith(`${name} must be a whole number `) && error.message.includes(`got "${value}"`),
          `${name}=${value}`,
        );
      }
    }
    assert.throws(() => readConfig({ CHAT_LEASE_SECONDS: '0' }), {
      message: 'CHAT_LEASE_SECONDS must be a whole number from 1 to 3600, got "0"',
    });
  });

  test('anything but a whole number is refused', () => {
    for (const value of ['soon', '1.5', '1e3', '0x10', '30s']) {
      assert.throws(() => readConfig({ CHAT_LEASE_SECONDS: value }), /CHAT_LEASE_SECONDS must be a whole number/, value);
    }
  });

  test('a choice or a switch it does not take stops the start, naming the setting and what it takes', () => {
    assert.throws(() => readConfig({ LOG_LEVEL: 'verbose' }), /LOG_LEVEL must be "fatal", .* or "silent", got "verbose"/);
    assert.throws(() => readConfig({ METRICS: 'yes' }), /METRICS must be 1 or true \(on\), 0 or false \(off\), got "yes"/);
    assert.equal(readConfig({ TLS_IN_FRONT: 'TRUE' }).tlsInFront, true);
    assert.equal(readConfig({ TLS_IN_FRONT: '0' }).tlsInFront, false);
  });

  test('values at the edges of their ranges are taken', () => {
    const low = readConfig({
      ...COZE,
      PORT: '0',
      CHAT_LEASE_SECONDS: '1',
      OPENAI_IDLE_TIMEOUT_MS: '100',
      MAX_BODY_BYTES: '65536',
      COZE_MAX_RETRIES: '0',
      LOGIN_MAX_FAILURES: ' 1 ',
    });
    assert.equal(low.port, 0);
    assert.equal(low.chatLeaseSeconds, 1);
    assert.equal(low.openai.idleTimeoutMs, 100);
    assert.equal(low.bodyLimitBytes, 65_536);
    assert.equal(low.coze?.maxRetries, 0);
    assert.equal(low.login.maxFailuresPerEmail, 1);
    const high = readConfig({
      ...COZE,
      PORT: '65535',
      CHAT_LEASE_SECONDS: '3600',
      COZE_IDLE_TIMEOUT_MS: '3600000',
      AUTH_TOKEN_TTL_DAYS: '3650',
    });
    assert.equal(high.port, 65_535);
    assert.equal(high.chatLeaseSeconds, 3600);
    assert.equal(high.coze?.idleTimeoutMs, 3_600_000);
    assert.equal(high.tokenTtlDays, 3650);
    assert.equal(readConfig({ PORT: '' }).port, 3000, 'an empty value is unset');
  });
});

// The README's configuration table is what operators read: it lists exactly the settings the server reads,
// with their defaults, and the ranges it checks.
describe('the README configuration table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### ', readme.indexOf('## Configuration')));
  /** Each variable the table names, with the default its row shows (null for "—"). */
  const rows = new Map<string, string | null>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names, shown] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    const value = shown === '—' ? null : /^`(.*)`$/.exec(shown!)![1]!;
    for (const [, name] of names!.matchAll(/`([A-Z_]+)`/g)) rows.set(name!, value);
  }
  const TESTS_AND_DEMO_ONLY = ['TEST_DATABASE_URL', 'CHROMIUM_PATH', 'SANDBOX_PORT'];

  test('lists every setting the server reads, and nothing else', () => {
    assert.deepEqual([...rows.keys()].sort(), [...Object.keys(SETTINGS), ...TESTS_AND_DEMO_ONLY].sort());
  });

  test("shows each setting's default", () => {
    for (const [name, setting] of Object.entries(SETTINGS)) assert.equal(rows.get(name), setting.shown, name);
  });

  test("states each number's range", () => {
    for (const [name, setting] of Object.entries(SETTINGS)) {
      if (!('min' in setting)) continue;
      assert.match(section, new RegExp(`\`${name}\`[^0-9]*${setting.min}–${setting.max}\\b`), name);
    }
  });
});
