// The console's users: the list (search, paging, last sign-in), role changes, and disabled accounts,
// whose tokens stop working at once and who cannot sign in, with the rules that keep someone able to
// manage users.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSandbox, type Sandbox } from '@agentport/sandbox';
import { users } from '../src/db/schema.js';
import { ADMIN, databaseTargets, describeOn, readUntil, startTestPlatform, type TestPlatform } from './support.js';

const PASSWORD = 'user-password-1'; // what newUser registers with

for (const target of databaseTargets()) {
  describeOn(target, 'console users', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let agentId: string;

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox' });
      const agent = await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Native', model: 'sandbox-chat' } });
      agentId = (await agent.json()).id;
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const list = async (query = '', token = p.adminToken) => {
      const res = await p.api('GET', `/console/api/users${query}`, { token });
      assert.equal(res.status, 200, await res.clone().text());
      return res.json();
    };
    const patch = (id: string, body: unknown, token = p.adminToken) => p.api('PATCH', `/console/api/users/${id}`, { token, body });
    const signIn = (email: string, password = PASSWORD) => p.api('POST', '/api/auth/login', { body: { email, password } });
    const me = (token: string) => p.api('GET', '/api/auth/me', { token });
    const chat = (token: string, content: string) =>
      p.api('POST', '/api/ai-agent/chat/completions', { token, body: { agentId, messages: [{ role: 'user', content }], stream: true } });
    async function adminNamed(email: string) {
      const user = await p.newUser(email);
      assert.equal((await patch(user.id, { role: 'admin' })).status, 200);
      return user;
    }

    test('the list: every user by email, with role, status, created and last sign-in; admins only', async () => {
      const dana = await p.newUser('dana.list@example.com');
      const { items, total } = await list('?q=dana.list');
      assert.equal(total, 1);
      assert.deepEqual(Object.keys(items[0]).sort(), ['createdAt', 'email', 'id', 'lastSignInAt', 'name', 'role', 'status']);
      assert.equal(items[0].id, dana.id);
      assert.equal(items[0].role, 'user');
      assert.equal(items[0].status, 'active');
      assert.ok(Date.now() - Date.parse(items[0].createdAt) < 60_000);

      assert.equal((await p.api('GET', '/console/api/users', { token: dana.token })).status, 403);
      assert.equal((await p.api('GET', '/console/api/users')).status, 401);
      assert.equal((await patch(dana.id, { role: 'admin' }, dana.token)).status, 403, 'a user cannot make themselves admin');
    });

    test('search matches email or name, in any case; % and _ are plain text', async () => {
      await p.newUser('Zed.Search@Example.com');
      await p.api('POST', '/api/auth/register', {
        body: { email: 'other.search@example.com', password: PASSWORD, name: 'Ygritte ZEDSON' },
      });
      const byEmail = await list('?q=zed.SEARCH');
      assert.deepEqual(
        byEmail.items.map((u: any) => u.email),
        ['zed.search@example.com'],
      );
      const byName = await list(`?q=${encodeURIComponent('zEd')}`);
      assert.deepEqual(byName.items.map((u: any) => u.email).sort(), ['other.search@example.com', 'zed.search@example.com']);
      assert.equal((await list('?q=%25')).total, 0, 'a % matches a percent sign only');
      const tooLong = await p.api('GET', `/console/api/users?q=${'a'.repeat(201)}`, { token: p.adminToken });
      assert.equal(tooLong.status, 400);
      assert.equal((await tooLong.json()).code, 'invalid_search');
    });

    test('paging: pageSize at a time, in email order, none twice; page size bounded, offset capped', async () => {
      for (let i = 0; i < 5; i++) await p.newUser(`pager${i}@example.com`);
      const first = await list('?q=pager&pageSize=2');
      const second = await list('?q=pager&pageSize=2&page=2');
      const third = await list('?q=pager&pageSize=2&page=3');
      assert.equal(first.total, 5);
      assert.deepEqual(
        [...first.items, ...second.items, ...third.items].map((u: any) => u.email),
        ['pager0@example.com', 'pager1@example.com', 'pager2@example.com', 'pager3@example.com', 'pager4@example.com'],
      );
      assert.equal((await p.api('GET', '/console/api/users?pageSize=101', { token: p.adminToken })).status, 400);
      assert.equal((await p.api('GET', '/console/api/users?page=0', { token: p.adminToken })).status, 400);
      const far = await p.api('GET', '/console/api/users?page=101&pageSize=100', { token: p.adminToken });
      assert.equal(far.status, 400);
      assert.deepEqual({ code: (await far.json()).code }, { code: 'page_out_of_range' });
    });

    test('last sign-in: set by registering, moved on by each sign-in, null for an account never used', async () => {
      await p.newUser('erin.last@example.com');
      const registered = (await list('?q=erin.last')).items[0].lastSignInAt;
      assert.ok(registered && Date.now() - Date.parse(registered) < 60_000);
      assert.equal((await signIn('erin.last@example.com')).status, 200);
      const signedIn = (await list('?q=erin.last')).items[0].lastSignInAt;
      assert.ok(Date.parse(signedIn) > Date.parse(registered), `${signedIn} after ${registered}`);
      assert.equal((await signIn('erin.last@example.com', 'wrong-password')).status, 401);
      assert.equal((await list('?q=erin.last')).items[0].lastSignInAt, signedIn, 'a failed sign-in is no sign-in');
      await p.database.db.insert(users).values({ email: 'never@example.com', passwordHash: 'x' });
      assert.equal((await list('?q=never@')).items[0].lastSignInAt, null);
    });

    test('role: an admin makes a user admin and back; an unknown role is 400, an unknown user 404', async () => {
      const fay = await p.newUser('fay.role@example.com');
      assert.equal((await p.api('GET', '/console/api/users', { token: fay.token })).status, 403);
      const promoted = await patch(fay.id, { role: 'admin' });
      assert.equal(promoted.status, 200);
      assert.equal((await promoted.json()).role, 'admin');
      assert.equal((await p.api('GET', '/console/api/users', { token: fay.token })).status, 200, 'at once, with the same token');
      assert.equal((await (await me(fay.token)).json()).user.role, 'admin');
      assert.equal((await patch(fay.id, { role: 'user' })).status, 200);
      assert.equal((await p.api('GET', '/console/api/users', { token: fay.token })).status, 403);

      const unknownRole = await patch(fay.id, { role: 'superuser' });
      assert.equal(unknownRole.status, 400);
      const body = await unknownRole.json();
      assert.equal(body.code, 'unknown_role');
      assert.match(body.message, /no role "superuser"/);
      const unknownUser = await patch('00000000-0000-4000-8000-000000000000', { role: 'user' });
      assert.equal(unknownUser.status, 404);
      assert.equal((await unknownUser.json()).code, 'not_found');
      assert.equal((await patch(fay.id, {})).status, 400, 'nothing to change');
      assert.equal((await patch(fay.id, { status: 'gone' })).status, 400);
      assert.equal((await patch('not-a-uuid', { role: 'user' })).status, 400);
    });

    test('disable: the tokens stop working at once, sign-in says the account is disabled; enabling lets them sign in again', async () => {
      const gus = await p.newUser('gus.disable@example.com');
      assert.equal((await me(gus.token)).status, 200);
      const disabled = await patch(gus.id, { status: 'disabled' });
      assert.equal(disabled.status, 200);
      assert.equal((await disabled.json()).status, 'disabled');

      for (const refused of [await me(gus.token), await chat(gus.token, 'Hello?')]) {
        assert.equal(refused.status, 401);
        const body = await refused.json();
        assert.equal(body.code, 'account_disabled');
        assert.match(body.message, /^This account is disabled/);
      }
      const again = await signIn('gus.disable@example.com');
      assert.equal(again.status, 403);
      assert.deepEqual({ code: (await again.json()).code }, { code: 'account_disabled' });
      const wrong = await signIn('gus.disable@example.com', 'wrong-password');
      assert.equal(wrong.status, 401);
      assert.equal((await wrong.json()).code, 'invalid_credentials', 'only the password holder learns the account is disabled');
      assert.equal((await list('?q=gus.disable')).items[0].status, 'disabled');

      const enabled = await patch(gus.id, { status: 'active' });
      assert.equal((await enabled.json()).status, 'active');
      const old = await me(gus.token);
      assert.equal(old.status, 401, 'sessions from before the disable do not come back');
      assert.equal((await old.json()).code, 'unauthorized');
      const signedIn = await signIn('gus.disable@example.com');
      assert.equal(signedIn.status, 200);
      assert.equal((await me((await signedIn.json()).token)).status, 200);
    });

    test('an answer streaming when its user is disabled finishes; their next message is refused', async () => {
      const hal = await p.newUser('hal.stream@example.com');
      const res = await chat(hal.token, 'Keep going [slow]');
      assert.equal(res.status, 200);
      const stream = await readUntil(res, (chunk) => Boolean(chunk.choices?.[0]?.delta?.content));
      assert.equal((await patch(hal.id, { status: 'disabled' })).status, 200);
      const next = await chat(hal.token, 'And now?');
      assert.equal(next.status, 401);
      const rest = await stream.rest();
      assert.equal(rest.error, undefined);
      assert.equal(rest.final.status, 'completed');
      assert.match(rest.text, /You said: "Keep going \[slow\]"/);
    });

    test('a role of its own with users.manage lists and changes users; without it, 403 naming the permission', async () => {
      const created = await p.api('POST', '/console/api/roles', {
        token: p.adminToken,
        body: { name: 'People desk', permissions: ['users.manage'] },
      });
      assert.equal(created.status, 201);
      const { key } = await created.json();
      const lee = await p.newUser('lee.desk@example.com');
      const mo = await p.newUser('mo.desk@example.com');
      const refused = await p.api('GET', '/console/api/users', { token: lee.token });
      assert.equal(refused.status, 403);
      assert.match((await refused.json()).message, /users\.manage/);
      assert.equal((await patch(lee.id, { role: key })).status, 200);
      assert.equal((await list('?q=desk', lee.token)).total, 2);
      assert.equal((await patch(mo.id, { status: 'disabled' }, lee.token)).status, 200);
      assert.equal((await p.api('GET', '/console/api/ai-agent', { token: lee.token })).status, 403, 'nothing else');
      assert.equal((await patch(lee.id, { role: 'user' })).status, 200);
    });

    test('an admin cannot disable themselves, nor demote or disable the last admin (409)', async () => {
      const [admin] = (await list(`?q=${encodeURIComponent(ADMIN.email)}`)).items;
      const self = await patch(admin.id, { status: 'disabled' });
      assert.equal(self.status, 409);
      assert.equal((await self.json()).code, 'cannot_disable_self');

      // Every other admin is made a user, so that the bootstrap admin is the last one.
      const { items } = await list('?pageSize=100');
      for (const other of items.filter((u: any) => u.role === 'admin' && u.id !== admin.id)) {
        assert.equal((await patch(other.id, { role: 'user' })).status, 200);
      }
      const demoted = await patch(admin.id, { role: 'user' });
      assert.equal(demoted.status, 409);
      const body = await demoted.json();
      assert.equal(body.code, 'last_user_manager');
      assert.match(body.message, /last account that can manage users/);
      assert.equal((await me(p.adminToken)).status, 200);
      assert.equal((await (await me(p.adminToken)).json()).user.role, 'admin', 'nothing changed');

      // With a second admin, demoting oneself is allowed; then the other is the last.
      const ivy = await adminNamed('ivy.admin@example.com');
      assert.equal((await patch(ivy.id, { role: 'user' }, ivy.token)).status, 200);
      assert.equal((await patch(admin.id, { role: 'user' })).status, 409);
    });

    test('a role of their own held by the last accounts that can manage users cannot drop users.manage (409)', async () => {
      const created = await p.api('POST', '/console/api/roles', {
        token: p.adminToken,
        body: { name: 'Last desk', permissions: ['users.manage', 'roles.manage'] },
      });
      assert.equal(created.status, 201);
      const { key } = await created.json();
      const noor = await p.newUser('noor.lastdesk@example.com');
      assert.equal((await patch(noor.id, { role: key })).status, 200);
      const editRole = (body: unknown, token = noor.token) => p.api('PATCH', `/console/api/roles/${key}`, { token, body });

      // Every admin steps aside: the role's holder is the last account that can manage users.
      const admins = (await list('?pageSize=100')).items.filter((u: any) => u.role === 'admin');
      try {
        for (const admin of admins) assert.equal((await patch(admin.id, { role: 'user' }, noor.token)).status, 200);
        const dropped = await editRole({ permissions: ['roles.manage'] });
        assert.equal(dropped.status, 409);
        const body = await dropped.json();
        assert.equal(body.code, 'last_user_manager');
        assert.match(body.message, /last accounts that can manage users/);
        assert.equal((await list('?q=lastdesk', noor.token)).total, 1, 'the role kept users.manage');
        assert.equal((await editRole({ name: 'Last desk, renamed' })).status, 200, 'other changes go through');
      } finally {
        for (const admin of admins) assert.equal((await patch(admin.id, { role: 'admin' }, noor.token)).status, 200);
      }
      // With the admins back, the role may drop it.
      assert.equal((await editRole({ permissions: ['roles.manage'] }, p.adminToken)).status, 200);
      assert.equal((await p.api('GET', '/console/api/users', { token: noor.token })).status, 403);
    });

    test('two admins disabling each other at the same moment: one wins, one admin is always left', async () => {
      const a = await adminNamed('jo.race@example.com');
      const b = await adminNamed('kim.race@example.com');
      // The bootstrap admin steps aside, leaving these two as the only admins.
      const [bootstrap] = (await list(`?q=${encodeURIComponent(ADMIN.email)}`)).items;
      assert.equal((await patch(bootstrap.id, { role: 'user' }, a.token)).status, 200);
      let tokens = { a: a.token, b: b.token };
      try {
        for (let round = 0; round < 5; round++) {
          const [ab, ba] = await Promise.all([
            patch(b.id, { status: 'disabled' }, tokens.a),
            patch(a.id, { status: 'disabled' }, tokens.b),
          ]);
          const statuses = [ab.status, ba.status];
          assert.equal(statuses.filter((s) => s === 200).length, 1, `round ${round}: ${statuses}`);
          assert.ok(
            statuses.every((s) => s === 200 || s === 409 || s === 401),
            `${statuses}`,
          );
          const left = (await list('?q=.race@&pageSize=10', ab.status === 200 ? tokens.a : tokens.b)).items.filter(
            (u: any) => u.role === 'admin' && u.status === 'active',
          );
          assert.equal(left.length, 1);
          // The winner enables the other again, who signs in anew.
          const [winner, loser] = ab.status === 200 ? (['a', 'b'] as const) : (['b', 'a'] as const);
          assert.equal((await patch(loser === 'a' ? a.id : b.id, { status: 'active' }, tokens[winner])).status, 200);
          const email = loser === 'a' ? 'jo.race@example.com' : 'kim.race@example.com';
          tokens = { ...tokens, [loser]: (await (await signIn(email)).json()).token };
        }
      } finally {
        assert.equal((await patch(bootstrap.id, { role: 'admin' }, tokens.a)).status, 200);
      }
    });
  });
}
