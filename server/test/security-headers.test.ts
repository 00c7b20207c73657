// The page's security headers: no image from another host, no inline style, and https demanded only
// when the operator says TLS is in front (over plain HTTP, e.g. a LAN address, upgrading breaks the page).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { databaseTargets, startTestPlatform, type TestPlatform } from './support.js';

/** The page's headers as served by a platform started with `env`; the CSP as directive → values. */
async function pageHeaders(env: Record<string, string>) {
  const webDist = mkdtempSync(path.join(tmpdir(), 'agentport-web-'));
  writeFileSync(path.join(webDist, 'index.html'), '<!doctype html><title>agentport</title>');
  // The headers do not depend on the database: the embedded one is enough.
  const platform: TestPlatform = await startTestPlatform(databaseTargets()[0]!, { WEB_DIST_DIR: webDist, ...env });
  try {
    const res = await fetch(`${platform.url}/chat`);
    assert.equal(res.status, 200);
    const csp = new Map(
      (res.headers.get('content-security-policy') ?? '').split(';').map((directive) => {
        const [name = '', ...values] = directive.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    return { csp, hsts: res.headers.get('strict-transport-security') };
  } finally {
    await platform.close();
    rmSync(webDist, { recursive: true, force: true });
  }
}

describe('security headers of the page', () => {
  let plain: Awaited<ReturnType<typeof pageHeaders>>;
  let tls: Awaited<ReturnType<typeof pageHeaders>>;
  before(async () => {
    plain = await pageHeaders({});
    tls = await pageHeaders({ TLS_IN_FRONT: '1' });
  });

  test('images come only from the platform or the page itself, styles only from its stylesheet', () => {
    for (const { csp } of [plain, tls]) {
      assert.deepEqual(csp.get('img-src'), ["'self'", 'data:', 'blob:']);
      assert.deepEqual(csp.get('style-src'), ["'self'"]);
    }
  });

  test('https is demanded (upgrade-insecure-requests, HSTS) only with TLS_IN_FRONT, so plain HTTP works by default', () => {
    assert.equal(plain.csp.has('upgrade-insecure-requests'), false);
    assert.equal(plain.hsts, null);
    assert.equal(tls.csp.has('upgrade-insecure-requests'), true);
    assert.match(tls.hsts ?? '', /max-age=\d+/);
  });
});
