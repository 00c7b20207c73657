// Roles and permissions: every console route asks for one permission (403 naming it without, success
// with it), a role's change applies at the next request, and the roles API itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { BOTS, startSandbox, type Sandbox } from '@agentport/sandbox';
import { users } from '../src/db/schema.js';
import { PERMISSION_CODES, type Permission } from '../src/roles/permissions.js';
import { ADMIN, databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

interface ConsoleRoute {
  /** Method and path, as the server declares it. */
  route: string;
  /** What a request that succeeds for a role holding the permission fills in. */
  request: () => Promise<{ id?: string; key?: string; body?: unknown }>;
  /** The permission it needs (any one of them). */
  needs: [Permission, ...Permission[]];
  ok: number;
}

for (const target of databaseTargets()) {
  describeOn(target, 'roles and permissions', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let roleCount = 0;

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
        // Each check registers users of its own.
        REGISTER_MAX_PER_IP: '1000',
      });
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const admin = (method: string, path: string, body?: unknown) => p.api(method, path, { token: p.adminToken, body });
    const json = async (res: Response | Promise<Response>, status: number) => {
      const response = await res;
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      return body;
    };
    const createRole = async (permissions: readonly Permission[], name = `Role ${++roleCount}`) =>
      (await json(admin('POST', '/console/api/roles', { name, permissions }), 201)) as { key: string };
    const giveRole = (userId: string, role: string) => p.database.db.update(users).set({ role }).where(eq(users.id, userId));
    /** A new user whose role holds exactly `permissions`; returns its token. */
    async function userWith(permissions: readonly Permission[]): Promise<string> {
      const role = await createRole(permissions);
      const user = await p.newUser();
      await giveRole(user.id, role.key);
      return user.token;
    }
    const newAgent = async () => (await json(admin('POST', '/console/api/ai-agent', { name: 'Managed', model: 'm' }), 201)).id as string;

    let imported: string | undefined;
    const importedAgent = async () =>
      (imported ??= (await json(admin('POST', '/console/api/ai-agent/import/coze', { cozeBotId: BOTS.travel.id }), 201)).agent.id);
    const routes: ConsoleRoute[] = [
      { route: 'GET /console/api/ai-agent', needs: ['agents.manage'], ok: 200, request: async () => ({}) },
      {
        route: 'POST /console/api/ai-agent',
        needs: ['agents.manage'],
        ok: 201,
        request: async () => ({ body: { name: 'Made', model: 'm' } }),
      },
      { route: 'GET /console/api/ai-agent/:id', needs: ['agents.manage'], ok: 200, request: async () => ({ id: await newAgent() }) },
      {
        route: 'PATCH /console/api/ai-agent/:id',
        needs: ['agents.manage'],
        ok: 200,
        request: async () => ({ id: await newAgent(), body: { description: 'Changed' } }),
      },
      { route: 'DELETE /console/api/ai-agent/:id', needs: ['agents.manage'], ok: 204, request: async () => ({ id: await newAgent() }) },
      { route: 'GET /console/api/ai-agent/coze/list', needs: ['coze.list'], ok: 200, request: async () => ({}) },
      {
        route: 'POST /console/api/ai-agent/import/coze',
        needs: ['coze.import'],
        ok: 201,
        request: async () => ({ body: { cozeBotId: BOTS.echo.id } }),
      },
      {
        route: 'POST /console/api/ai-agent/:id/sync',
        needs: ['coze.import'],
        ok: 200,
        request: async () => ({ id: await importedAgent() }),
      },
      { route: 'POST /console/api/invites', needs: ['invites.create'], ok: 201, request: async () => ({ body: {} }) },
      { route: 'GET /console/api/roles', needs: ['roles.manage', 'users.manage', 'agents.manage'], ok: 200, request: async () => ({}) },
      {
        route: 'POST /console/api/roles',
        needs: ['roles.manage'],
        ok: 201,
        request: async () => ({ body: { name: `Made ${++roleCount}`, permissions: ['coze.list'] } }),
      },
      {
        route: 'PATCH /console/api/roles/:key',
        needs: ['roles.manage'],
        ok: 200,
        request: async () => ({ key: (await createRole([])).key, body: { permissions: ['usage.view'] } }),
      },
      {
        route: 'DELETE /console/api/roles/:key',
        needs: ['roles.manage'],
        ok: 204,
        request: async () => ({ key: (await createRole([])).key }),
      },
      { route: 'GET /console/api/usage', needs: ['usage.view'], ok: 200, request: async () => ({}) },
      { route: 'GET /console/api/usage.csv', needs: ['usage.view'], ok: 200, request: async () => ({}) },
      {
        route: 'PUT /console/api/quotas/roles/:key',
        needs: ['roles.manage'],
        ok: 200,
        request: async () => ({ key: (await createRole([])).key, body: { messagesPerDay: 10, tokensPerMonth: null } }),
      },
      {
        route: 'GET /console/api/quotas/users/:id',
        needs: ['users.manage'],
        ok: 200,
        request: async () => ({ id: (await p.newUser()).id }),
      },
      {
        route: 'PUT /console/api/quotas/users/:id',
        needs: ['users.manage'],
        ok: 200,
        request: async () => ({ id: (await p.newUser()).id, body: { messagesPerDay: 10, tokensPerMonth: 1000 } }),
      },
      {
        route: 'DELETE /console/api/quotas/users/:id',
        needs: ['users.manage'],
        ok: 204,
        request: async () => ({ id: (await p.newUser()).id }),
      },
    ];
    /** The method, path and body of a request to `route` that succeeds for a role holding its permission. */
    async function requestTo(route: ConsoleRoute) {
      const { id, key, body } = await route.request();
      const [method, pattern] = route.route.split(' ') as [string, string];
      return { method, path: pattern.replace(':id', id ?? '').replace(':key', key ?? ''), body };
    }

    describe('every console route asks for its permission', () => {
      for (const route of routes) {
        test(`${route.route}: 403 naming ${route.needs.join(' | ')} without, success with it`, async () => {
          const { method, path, body } = await requestTo(route);
          const without = await userWith(PERMISSION_CODES.filter((code) => !route.needs.includes(code)));
          const refused = await json(p.api(method, path, { token: without, body }), 403);
          assert.equal(refused.code, 'forbidden');
          for (const code of route.needs) assert.ok(refused.message.includes(code), refused.message);
          assert.equal(refused.permission, route.needs.join(' '));

          for (const code of route.needs) {
            const res = await p.api(method, path, { token: await userWith([code]), body });
            assert.equal(res.status, route.ok, `${method} ${path} with ${code}: ${await res.text()}`);
          }
        });
      }
    });

    test('a plain user is refused every console route; a signed-out caller gets 401 first', async () => {
      const { token } = await p.newUser();
      for (const route of routes) {
        const { method, path, body } = await requestTo(route);
        assert.equal((await p.api(method, path, { token, body })).status, 403, `${method} ${path}`);
        assert.equal((await p.api(method, path, { body })).status, 401, `${method} ${path}`);
      }
    });

    test("me tells the user's permissions; a role's change applies at the next request of the same token", async () => {
      const me = (token: string) => json(p.api('GET', '/api/auth/me', { token }), 200);
      assert.deepEqual((await me(p.adminToken)).user.permissions.toSorted(), PERMISSION_CODES.toSorted());
      const user = await p.newUser();
      const plain = (await me(user.token)).user;
      assert.deepEqual([plain.role, plain.permissions], ['user', []]);

      const curator = await createRole(['coze.list', 'coze.import'], 'Agent curator');
      await giveRole(user.id, curator.key);
      assert.deepEqual((await me(user.token)).user.permissions, ['coze.list', 'coze.import']);
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list', { token: user.token })).status, 200);
      assert.equal((await p.api('GET', '/console/api/ai-agent', { token: user.token })).status, 403);

      await json(admin('PATCH', `/console/api/roles/${curator.key}`, { permissions: ['coze.import'] }), 200);
      assert.deepEqual((await me(user.token)).user.permissions, ['coze.import']);
      assert.equal((await p.api('GET', '/console/api/ai-agent/coze/list', { token: user.token })).status, 403);

      // Signing in answers with the permissions too.
      const login = await json(p.api('POST', '/api/auth/login', { body: ADMIN }), 200);
      assert.deepEqual(login.user.permissions.toSorted(), PERMISSION_CODES.toSorted());
    });

    test('roles: listed with what each permission allows and how many hold them; created, renamed, changed', async () => {
      const created = await json(
        admin('POST', '/console/api/roles', { name: 'Bot Curator!', permissions: ['coze.list', 'coze.import'] }),
        201,
      );
      assert.deepEqual(created, {
        key: 'bot-curator',
        name: 'Bot Curator!',
        permissions: ['coze.list', 'coze.import'],
        builtIn: false,
        users: 0,
        messagesPerDay: null,
        tokensPerMonth: null,
      });
      const user = await p.newUser();
      await giveRole(user.id, created.key);

      const list = await json(admin('GET', '/console/api/roles'), 200);
      const byKey = new Map(list.items.map((role: { key: string }) => [role.key, role]));
      assert.deepEqual(byKey.get('bot-curator'), { ...created, users: 1 });
      assert.equal((byKey.get('admin') as { builtIn: boolean }).builtIn, true);
      assert.deepEqual((byKey.get('admin') as { permissions: string[] }).permissions.toSorted(), PERMISSION_CODES.toSorted());
      assert.deepEqual((byKey.get('user') as { permissions: string[] }).permissions, []);
      assert.deepEqual(
        list.permissions.map((permission: { code: string }) => permission.code),
        PERMISSION_CODES,
      );
      assert.match(
        list.permissions.find((permission: { code: string }) => permission.code === 'coze.import').description,
        /Import Coze bots/,
      );

      const renamed = await json(admin('PATCH', '/console/api/roles/bot-curator', { name: 'Curator' }), 200);
      assert.deepEqual(renamed, { ...created, name: 'Curator', users: 1 });

      // A name of no latin letters still gets a key; a key can be chosen.
      const chinese = await json(admin('POST', '/console/api/roles', { name: '审核员', permissions: [] }), 201);
      assert.match(chinese.key, /^role-[0-9a-f]{8}$/);
      assert.equal(
        (await json(admin('POST', '/console/api/roles', { key: 'ops', name: 'Ops', permissions: ['usage.view'] }), 201)).key,
        'ops',
      );
    });

    test('roles: bad input, built-in roles and roles in use get a clear 4xx', async () => {
      const unknownPermission = await json(admin('POST', '/console/api/roles', { name: 'X', permissions: ['chat.everything'] }), 400);
      assert.equal(unknownPermission.code, 'validation_error');
      await json(admin('POST', '/console/api/roles', { name: '   ', permissions: [] }), 400);
      await json(admin('POST', '/console/api/roles', { name: 'X', key: 'Has Spaces', permissions: [] }), 400);
      await json(admin('POST', '/console/api/roles', { name: 'Twice', permissions: ['coze.list', 'coze.list'] }), 400);
      await json(admin('POST', '/console/api/roles', { name: 'Taken', permissions: [] }), 201);
      const taken = await json(admin('POST', '/console/api/roles', { name: 'Taken', permissions: [] }), 409);
      assert.match(taken.message, /taken exists already/);
      await json(admin('PATCH', '/console/api/roles/taken', {}), 400);
      assert.equal((await json(admin('PATCH', '/console/api/roles/no-such-role', { name: 'Y' }), 404)).code, 'not_found');
      assert.equal((await json(admin('DELETE', '/console/api/roles/no-such-role'), 404)).code, 'not_found');

      for (const key of ['admin', 'user']) {
        const changed = await json(admin('PATCH', `/console/api/roles/${key}`, { permissions: [] }), 409);
        assert.equal(changed.code, 'built_in_role');
        assert.equal((await json(admin('DELETE', `/console/api/roles/${key}`), 409)).code, 'built_in_role');
      }

      const held = await createRole(['coze.list']);
      const user = await p.newUser();
      await giveRole(user.id, held.key);
      const inUse = await json(admin('DELETE', `/console/api/roles/${held.key}`), 409);
      assert.equal(inUse.code, 'role_in_use');
      assert.match(inUse.message, /1 user holds this role/);
      await giveRole(user.id, 'user');
      assert.equal((await admin('DELETE', `/console/api/roles/${held.key}`)).status, 204);
      // The database refuses a user given a role that does not exist.
      await assert.rejects(giveRole(user.id, held.key));
    });
  });
}
