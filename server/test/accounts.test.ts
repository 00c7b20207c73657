// Accounts under attack: sign-in limits that hold against parallel guesses and behind a shared
// address, no timing hint about who has an account, the proxy setting, the admin bootstrap,
// registration modes, invites and the registration limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { passwords } from '../src/auth/passwords.js';
import type { App } from '../src/app.js';
import { readConfig, type Config } from '../src/config.js';
import type { Database } from '../src/db/index.js';
import { authTokens, invites, loginFailures, registrationAttempts, signInAddresses, users } from '../src/db/schema.js';
import { startPlatform } from '../src/start.js';
import { ADMIN, databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

const PASSWORD = 'user-password-1';

/** Calls the platform as the client `client`, the way the trusted proxy at 127.0.0.1 reports it. */
function asClient(url: string, client: string, forwardedFor = client) {
  return (method: string, route: string, body?: unknown, token?: string) =>
    fetch(url + route, {
      method,
      headers: {
        'x-forwarded-for': forwardedFor,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
}

const signIn = (url: string, client: string, email: string, password: string) =>
  asClient(url, client)('POST', '/api/auth/login', { email, password });

async function register(url: string, client: string, email: string, extra: Record<string, unknown> = {}) {
  return asClient(url, client)('POST', '/api/auth/register', { email, password: PASSWORD, ...extra });
}

/** `$argon2id$v=19$m=…,t=…,p=…`: the parameters that set how long a verification takes. */
const argon2Parameters = (hash: string) => hash.split('$').slice(1, 4).join('$');

test("TRUST_PROXY takes the proxies' addresses; true and hop counts are refused with what to set", () => {
  assert.deepEqual(readConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fc00::/7' }).trustProxy, ['loopback', '10.0.0.0/8', 'fc00::/7']);
  assert.equal(readConfig({}).trustProxy, false);
  assert.throws(() => readConfig({ TRUST_PROXY: 'true' }), /any X-Forwarded-For.*TRUST_PROXY=loopback/);
  assert.throws(() => readConfig({ TRUST_PROXY: '1' }), /not a number of hops.*TRUST_PROXY=10\.0\.0\.5/);
  assert.throws(() => readConfig({ TRUST_PROXY: '10.0.0.0/33' }), /got "10\.0\.0\.0\/33"/);
  assert.throws(() => readConfig({ TRUST_PROXY: 'proxy.internal' }), /got "proxy\.internal"/);
  assert.throws(() => readConfig({ REGISTRATION: 'invite-only' }), /REGISTRATION must be "open", "invite" or "closed"/);
  assert.equal(readConfig({}).registration.mode, 'open');
});

for (const target of databaseTargets()) {
  describeOn(target, 'sign-in and registration limits', () => {
    let p: TestPlatform;
    before(async () => {
      p = await startTestPlatform(target, {
        LOGIN_MAX_FAILURES: '3',
        LOGIN_MAX_FAILURES_PER_IP: '5',
        REGISTER_MAX_PER_IP: '3',
        TRUST_PROXY: '127.0.0.1',
      });
    });
    after(() => p.close());

    test('100 parallel wrong guesses on one email: only LOGIN_MAX_FAILURES passwords are checked, the rest are 429', async (t) => {
      assert.equal((await register(p.url, '10.1.1.1', 'target@example.com')).status, 201);
      const verify = t.mock.method(passwords, 'verify');
      // From 100 addresses, as a botnet would: only the per-email limit stands in the way.
      const statuses = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => (await signIn(p.url, `10.1.0.${i + 1}`, 'target@example.com', `guess-${i}`)).status),
      );
      assert.equal(verify.mock.callCount(), 3, 'passwords checked');
      assert.equal(statuses.filter((s) => s === 401).length, 3);
      assert.equal(statuses.filter((s) => s === 429).length, 97);
      const locked = await signIn(p.url, '10.1.1.1', 'target@example.com', PASSWORD);
      assert.equal(locked.status, 429);
      assert.match((await locked.json()).message, /Too many failed sign-ins\. Try again in 15 minutes/);
      assert.equal(verify.mock.callCount(), 3, "a locked email's password is not checked");
    });

    test("behind one shared address, other accounts' failures do not lock out a user who signed in there before", async () => {
      const nat = '10.2.0.1';
      for (const email of ['alice@example.com', 'bob@example.com']) assert.equal((await register(p.url, '10.2.9.9', email)).status, 201);
      assert.equal((await signIn(p.url, nat, 'alice@example.com', PASSWORD)).status, 200);
      // A password sprayer behind the same address uses up its per-address limit…
      for (let i = 0; i < 5; i++) assert.equal((await signIn(p.url, nat, `sprayed${i}@example.com`, 'Summer2026!')).status, 401);
      assert.equal((await signIn(p.url, nat, 'sprayed5@example.com', 'Summer2026!')).status, 429);
      // …which still stops guesses at accounts new to the address, and no longer stops Alice.
      assert.equal((await signIn(p.url, nat, 'bob@example.com', PASSWORD)).status, 429);
      assert.equal((await signIn(p.url, nat, 'alice@example.com', PASSWORD)).status, 200);
      // Her own email's limit still applies to wrong passwords.
      for (let i = 0; i < 3; i++) assert.equal((await signIn(p.url, nat, 'alice@example.com', 'wrong-password')).status, 401);
      assert.equal((await signIn(p.url, nat, 'alice@example.com', PASSWORD)).status, 429);
    });

    test('an unknown email costs the same argon2 verification as a wrong password', async (t) => {
      assert.equal((await register(p.url, '10.3.9.9', 'carol@example.com')).status, 201);
      const verify = t.mock.method(passwords, 'verify');
      assert.equal((await signIn(p.url, '10.3.0.1', 'carol@example.com', 'wrong-password')).status, 401);
      assert.equal((await signIn(p.url, '10.3.0.1', 'nobody@example.com', 'wrong-password')).status, 401);
      assert.equal(verify.mock.callCount(), 2, 'one verification each');
      const [known, unknown] = verify.mock.calls.map((call) => call.arguments[0]);
      assert.notEqual(unknown, known);
      assert.equal(argon2Parameters(unknown!), argon2Parameters(known!), 'the same cost');
    });

    test('limits count the address the trusted proxy saw, whatever the client wrote before it', async () => {
      for (let i = 0; i < 5; i++) {
        const spoofed = asClient(p.url, '10.4.0.1', `192.0.2.${i}, 10.4.0.1`);
        assert.equal((await spoofed('POST', '/api/auth/login', { email: `x${i}@example.com`, password: 'guess' })).status, 401);
      }
      const spoofed = asClient(p.url, '10.4.0.1', '192.0.2.99, 10.4.0.1');
      assert.equal((await spoofed('POST', '/api/auth/login', { email: 'x9@example.com', password: 'guess' })).status, 429);
      assert.equal((await signIn(p.url, '10.4.0.2', 'x9@example.com', 'guess')).status, 401, 'another client is not limited');
    });

    test('registration is open by default, and the web app can ask', async () => {
      assert.deepEqual(await (await p.api('GET', '/api/auth/config')).json(), { registration: 'open' });
    });

    test('registrations per address are limited (REGISTER_MAX_PER_IP), counted in the database', async () => {
      assert.equal((await register(p.url, '10.5.0.1', 'r1@example.com')).status, 201);
      assert.equal((await register(p.url, '10.5.0.1', 'r1@example.com')).status, 409, 'a taken email counts too');
      assert.equal((await register(p.url, '10.5.0.1', 'r2@example.com')).status, 201);
      const limited = await register(p.url, '10.5.0.1', 'r3@example.com');
      assert.equal(limited.status, 429);
      assert.match((await limited.json()).message, /Too many registrations from this address\. Try again in 60 minutes/);
      assert.equal((await register(p.url, '10.5.0.2', 'r3@example.com')).status, 201, 'another address may register');
      const counted = await p.database.db
        .select()
        .from(registrationAttempts)
        .where(sql`${registrationAttempts.ip} = '10.5.0.1'`);
      assert.equal(counted.length, 3);
    });
  });

  describeOn(target, 'registration modes', () => {
    test('REGISTRATION=closed: registering is 403 with a clear message; existing accounts sign in', async () => {
      const p = await startTestPlatform(target, { REGISTRATION: 'closed' });
      try {
        assert.deepEqual(await (await p.api('GET', '/api/auth/config')).json(), { registration: 'closed' });
        const res = await p.api('POST', '/api/auth/register', { body: { email: 'dan@example.com', password: PASSWORD } });
        assert.equal(res.status, 403);
        const body = await res.json();
        assert.equal(body.code, 'registration_closed');
        assert.match(body.message, /Registration is closed on this platform/);
        assert.equal((await p.api('POST', '/api/auth/login', { body: ADMIN })).status, 200);
      } finally {
        await p.close();
      }
    });

    test("REGISTRATION=invite: an admin's invite code registers one account, once, until it expires; only its hash is stored", async () => {
      const p = await startTestPlatform(target, { REGISTRATION: 'invite' });
      const registerWith = (email: string, inviteCode?: string) =>
        p.api('POST', '/api/auth/register', { body: { email, password: PASSWORD, ...(inviteCode ? { inviteCode } : {}) } });
      const newInvite = async () => {
        const res = await p.api('POST', '/console/api/invites', { token: p.adminToken, body: {} });
        assert.equal(res.status, 201);
        return (await res.json()) as { id: string; code: string; expiresAt: string };
      };
      try {
        assert.deepEqual(await (await p.api('GET', '/api/auth/config')).json(), { registration: 'invite' });
        const none = await registerWith('erin@example.com');
        assert.equal(none.status, 403);
        assert.match((await none.json()).message, /needs an invite code/);
        const wrong = await registerWith('erin@example.com', 'inv_mistyped');
        assert.equal(wrong.status, 403);
        assert.match((await wrong.json()).message, /invite code is not valid/);

        const invite = await newInvite();
        assert.ok(Date.parse(invite.expiresAt) > Date.now() + 6 * 86_400_000, 'a week by default');
        const stored = await p.database.db.select().from(invites);
        assert.equal(stored.length, 1);
        assert.notEqual(stored[0]!.codeHash, invite.code);
        assert.ok(!JSON.stringify(stored).includes(invite.code), 'the code is not stored');

        // A taken email does not use the invite up.
        assert.equal((await registerWith(ADMIN.email, invite.code)).status, 409);
        const erin = await registerWith('erin@example.com', invite.code);
        assert.equal(erin.status, 201);
        assert.equal((await p.api('GET', '/api/auth/me', { token: (await erin.json()).token })).status, 200);
        assert.equal((await registerWith('frank@example.com', invite.code)).status, 403, 'single use');

        const expiring = await newInvite();
        await p.database.db
          .update(invites)
          .set({ expiresAt: new Date(Date.now() - 1000) })
          .where(sql`${invites.usedAt} is null`);
        assert.equal((await registerWith('frank@example.com', expiring.code)).status, 403, 'expired');

        // The list: never a code; pending, used (by whom), expired; a pending one revoked no longer registers.
        const revocable = await newInvite();
        const listed = async () => (await (await p.api('GET', '/console/api/invites', { token: p.adminToken })).json()).items;
        const byId = async (id: string) => (await listed()).find((i: any) => i.id === id);
        assert.ok(!JSON.stringify(await listed()).includes('inv_'), 'no code in the list');
        assert.deepEqual(
          { status: (await byId(invite.id)).status, usedBy: (await byId(invite.id)).usedBy },
          { status: 'used', usedBy: 'erin@example.com' },
        );
        assert.equal((await byId(expiring.id)).status, 'expired');
        assert.equal((await byId(revocable.id)).status, 'pending');
        assert.equal((await p.api('DELETE', `/console/api/invites/${revocable.id}`, { token: p.adminToken })).status, 204);
        assert.equal((await byId(revocable.id)).status, 'revoked');
        assert.equal((await registerWith('gail@example.com', revocable.code)).status, 403, 'revoked');
        const again = await p.api('DELETE', `/console/api/invites/${invite.id}`, { token: p.adminToken });
        assert.equal(again.status, 409);
        assert.equal((await again.json()).code, 'invite_not_pending');
        const unknown = await p.api('DELETE', '/console/api/invites/00000000-0000-4000-8000-000000000000', { token: p.adminToken });
        assert.equal(unknown.status, 404);

        const { token } = await p
          .api('POST', '/api/auth/login', { body: { email: 'erin@example.com', password: PASSWORD } })
          .then((r) => r.json());
        assert.equal((await p.api('POST', '/console/api/invites', { token, body: {} })).status, 403, 'admins only');
        assert.equal((await p.api('GET', '/console/api/invites', { token })).status, 403);
        assert.equal((await p.api('DELETE', `/console/api/invites/${invite.id}`, { token })).status, 403);
        assert.equal((await p.api('POST', '/console/api/invites', { token: p.adminToken, body: { expiresInDays: 0 } })).status, 400);
      } finally {
        await p.close();
      }
    });
  });

  describeOn(target, 'start-up', () => {
    let p: TestPlatform;
    /** The platform now running on p's database: p itself, then each restart. */
    let running: App & { database: Database };
    before(async () => {
      p = await startTestPlatform(target);
      running = p;
    });
    after(async () => {
      await running.app.close();
      await p.close();
    });

    /** Starts the platform again on the same database, as a restart or another instance would. */
    async function restart(config: Config): Promise<string> {
      await running.app.close();
      running = await startPlatform(config, { logger: false });
      return running.app.listen({ host: '127.0.0.1', port: 0 });
    }
    const me = async (url: string, token: string) =>
      (await fetch(`${url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;

    test('an account registered with ADMIN_EMAIL before the bootstrap gets nothing: its tokens stop working', async () => {
      const owner = { email: 'boss@example.com', password: 'the-real-admin-password' };
      const squatter = await (await register(p.url, '10.6.0.1', owner.email)).json();
      assert.equal(await me(p.url, squatter.token), 200);

      const config = { ...p.config, admin: owner };
      let url = await restart(config);
      assert.equal(await me(url, squatter.token), 401, "the squatter's token is revoked");
      assert.equal((await signIn(url, '10.6.0.1', owner.email, PASSWORD)).status, 401, "the squatter's password is gone");
      const signedIn = await (await signIn(url, '10.6.0.2', owner.email, owner.password)).json();
      assert.equal(signedIn.user.role, 'admin');

      url = await restart(config);
      assert.equal(await me(url, signedIn.token), 200, 'an unchanged admin stays signed in across restarts');

      url = await restart({ ...config, admin: { ...owner, password: 'a-new-admin-password' } });
      assert.equal(await me(url, signedIn.token), 401, 'a changed password signs the admin out everywhere');

      // Disabled by another admin: the next start with ADMIN_EMAIL lets the operator back in.
      const { db } = running.database;
      await db.update(users).set({ disabledAt: new Date() }).where(eq(users.email, owner.email));
      assert.equal((await signIn(url, '10.6.0.2', owner.email, 'a-new-admin-password')).status, 403, 'disabled');
      url = await restart({ ...config, admin: { ...owner, password: 'a-new-admin-password' } });
      const back = await signIn(url, '10.6.0.2', owner.email, 'a-new-admin-password');
      assert.equal(back.status, 200, 'enabled again by the start-up');
      assert.equal((await back.json()).user.role, 'admin');
    });

    test('expired tokens and invites and stale limit records are pruned at start-up; live ones stay', async () => {
      const { db } = running.database;
      const [admin] = await db
        .select()
        .from(users)
        .where(sql`${users.role} = 'admin'`)
        .limit(1);
      const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);
      const ahead = new Date(Date.now() + 60 * 60_000);
      await db.insert(authTokens).values([
        { tokenHash: 'expired', userId: admin!.id, expiresAt: ago(1) },
        { tokenHash: 'live', userId: admin!.id, expiresAt: ahead },
      ]);
      await db.insert(invites).values([
        { codeHash: 'expired', createdBy: admin!.id, expiresAt: ago(1) },
        { codeHash: 'live', createdBy: admin!.id, expiresAt: ahead },
      ]);
      await db.insert(loginFailures).values([
        { email: 'old@x', ip: 'old', at: ago(16) },
        { email: 'new@x', ip: 'new', at: ago(1) },
      ]);
      await db.insert(registrationAttempts).values([
        { ip: 'old', at: ago(61) },
        { ip: 'new', at: ago(1) },
      ]);
      await db.insert(signInAddresses).values([
        { userId: admin!.id, ip: 'old', lastAt: ago(31 * 24 * 60) },
        { userId: admin!.id, ip: 'new', lastAt: ago(1) },
      ]);

      await restart(p.config);
      const { db: after } = running.database;
      // What is left of the rows this test made (earlier tests made others).
      const left = async (rows: Promise<Array<Record<string, unknown>>>, key: string) =>
        (await rows)
          .map((row) => row[key])
          .filter((value) => ['old', 'new', 'expired', 'live'].includes(value as string))
          .sort();
      assert.deepEqual(await left(after.select().from(authTokens), 'tokenHash'), ['live']);
      assert.deepEqual(await left(after.select().from(invites), 'codeHash'), ['live']);
      assert.deepEqual(await left(after.select().from(loginFailures), 'ip'), ['new']);
      assert.deepEqual(await left(after.select().from(registrationAttempts), 'ip'), ['new']);
      assert.deepEqual(await left(after.select().from(signInAddresses), 'ip'), ['new']);
    });
  });
}
