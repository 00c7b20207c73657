// Settings are read once at start-up: a value that would break the platform stops the start, naming the setting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readConfig } from '../src/config.js';

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
