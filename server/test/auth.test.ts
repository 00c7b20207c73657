import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

for (const target of databaseTargets()) {
  describeOn(target, 'auth', () => {
    let p: TestPlatform;
    before(async () => {
      p = await startTestPlatform(target, { LOGIN_MAX_FAILURES: '3' });
    });
    after(() => p.close());

    test('the configured admin exists at start-up and can sign in', async () => {
      const res = await p.api('POST', '/api/auth/login', { body: ADMIN });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.user.role, 'admin');
      assert.match(body.token, /^ap_/);
      assert.equal(body.user.passwordHash, undefined, 'no password hash in responses');
    });

    test('register creates a user who can sign in; the email is case-insensitive', async () => {
      const res = await p.api('POST', '/api/auth/register', {
        body: { email: 'Alice@Example.com', password: 'correct-horse', name: 'Alice' },
      });
      assert.equal(res.status, 201);
      assert.equal((await res.json()).user.role, 'user');
      const login = await p.api('POST', '/api/auth/login', { body: { email: 'alice@example.com', password: 'correct-horse' } });
      assert.equal(login.status, 200);
      const { token } = await login.json();
      const me = await p.api('GET', '/api/auth/me', { token });
      assert.deepEqual((await me.json()).user.email, 'alice@example.com');
    });

    test('a taken email is 409, a short password or bad email is 400 with a message', async () => {
      await p.newUser('bob@example.com');
      const taken = await p.api('POST', '/api/auth/register', { body: { email: 'BOB@example.com', password: 'whatever-1' } });
      assert.equal(taken.status, 409);
      const weak = await p.api('POST', '/api/auth/register', { body: { email: 'c@example.com', password: 'short' } });
      assert.equal(weak.status, 400);
      assert.match((await weak.json()).message, /password/);
      const bad = await p.api('POST', '/api/auth/register', { body: { email: 'not-an-email', password: 'long-enough' } });
      assert.equal(bad.status, 400);
    });

    test('wrong credentials are 401; repeated failures are rate limited with 429', async () => {
      await p.newUser('carol@example.com');
      for (let i = 0; i < 3; i++) {
        const res = await p.api('POST', '/api/auth/login', { body: { email: 'carol@example.com', password: 'wrong-password' } });
        assert.equal(res.status, 401);
      }
      const limited = await p.api('POST', '/api/auth/login', { body: { email: 'carol@example.com', password: 'user-password-1' } });
      assert.equal(limited.status, 429);
      assert.match((await limited.json()).message, /Too many failed sign-ins/);
    });

    test('logout revokes the token', async () => {
      const { token } = await p.newUser();
      assert.equal((await p.api('POST', '/api/auth/logout', { token })).status, 204);
      assert.equal((await p.api('GET', '/api/auth/me', { token })).status, 401);
    });

    test('console API: 401 without a token (before validation), 403 for a non-admin', async () => {
      const anonymous = await p.api('POST', '/console/api/ai-agent', { body: {} });
      assert.equal(anonymous.status, 401);
      const { token } = await p.newUser();
      const forbidden = await p.api('GET', '/console/api/ai-agent', { token });
      assert.equal(forbidden.status, 403);
      assert.equal((await p.api('GET', '/api/ai-agent')).status, 401);
      assert.equal((await p.api('GET', '/api/ai-agent', { token: 'ap_forged' })).status, 401);
    });

    test('health answers once migrations ran, with the security headers every response carries', async () => {
      const res = await p.api('GET', '/api/health');
      assert.equal(res.status, 200);
      assert.equal((await res.json()).database, target.name);
      assert.match(res.headers.get('content-security-policy')!, /default-src 'self'.*img-src 'self' data: blob:;/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    });
  });
}
