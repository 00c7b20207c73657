// Roles in the console: an admin creates an "Agent curator" role (Coze list and import); a user given
// it sees the Coze import and imports a bot, and nothing of users or roles.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOTS } from '@agentport/sandbox';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const CURATOR = { email: 'cora@agentport.test', password: 'cora-password-123' };

describe('roles', () => {
  const { platform, withPage } = useBrowserSuite();

  /** An API call as `token`; its JSON body, after checking its status. */
  async function api(method: string, path: string, token: string | null, body: unknown, status: number) {
    const res = await fetch(platform().baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, status, text);
    return JSON.parse(text);
  }

  test('an admin creates an Agent curator role; its user imports from Coze and sees nothing of users or roles', async () => {
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.getByTestId('console-link').click();
      await page.getByTestId('console-nav-console-roles').click();
      await page.getByTestId('roles-table').waitFor();
      // The built-in roles are listed and cannot be edited.
      const admin = page.locator('[data-testid="role-row"][data-role-key="admin"]');
      await admin.getByTestId('built-in-badge').waitFor();
      assert.equal(await admin.getByTestId('edit-role').count(), 0);

      await page.getByTestId('create-role').click();
      const form = page.getByTestId('role-form');
      await form.getByLabel('Name').fill('Agent curator');
      // Each permission says what it allows.
      assert.match(
        (await form.getByTestId('role-form-permission').filter({ hasText: 'coze.import' }).textContent()) ?? '',
        /Import Coze bots/,
      );
      await form.getByTestId('permission-coze.list').check();
      await form.getByTestId('permission-coze.import').check();
      await snapshot(page, 'role-form');
      await form.getByTestId('role-form-save').click();
      const row = page.locator('[data-testid="role-row"][data-role-key="agent-curator"]');
      await row.waitFor();
      assert.deepEqual(await row.getByTestId('role-row-permissions').locator('code').allTextContents(), ['coze.list', 'coze.import']);
      await snapshot(page, 'roles');
    });

    // The user registers; the admin gives them the role.
    const registered = await api('POST', '/api/auth/register', null, { ...CURATOR, name: 'Cora Curator' }, 201);
    const adminToken = (await api('POST', '/api/auth/login', null, platform().admin, 200)).token;
    await api('PATCH', `/console/api/users/${registered.user.id}`, adminToken, { role: 'agent-curator' }, 200);

    await withPage(async (page) => {
      await signIn(page, CURATOR);
      await page.getByTestId('console-link').click();
      await page.getByTestId('import-only-note').waitFor();
      // Only the import: no agent list or form, and no console page but this one.
      assert.equal(await page.getByTestId('create-agent').count(), 0);
      assert.equal(await page.getByTestId('agents-table').count(), 0);
      assert.equal(await page.getByTestId('console-nav').count(), 0);

      await page.getByTestId('import-agent').click();
      const dialog = page.getByTestId('import-dialog');
      const echo = dialog.locator(`[data-testid="coze-bot"][data-bot-id="${BOTS.echo.id}"]`);
      const listed = page.waitForResponse((r) => r.url().includes('/coze/list') && r.url().includes('keyword=echo'));
      await dialog.getByTestId('coze-search').fill('echo');
      await listed;
      await echo.getByTestId('coze-bot-checkbox').check();
      await dialog.getByTestId('import-submit').click();
      await dialog.locator(`[data-testid="import-progress-item"][data-bot-id="${BOTS.echo.id}"][data-state="done"]`).waitFor();
      await echo.getByTestId('imported-badge').waitFor();
      await dialog.getByTestId('import-close').click();

      // The imported bot is an agent every user may chat with.
      await page.getByTestId('nav-agents').click();
      await page.getByTestId('agent-card').filter({ hasText: BOTS.echo.name }).waitFor();

      // The roles page sends them home; the API refuses them, naming what is missing.
      await page.goto('/console/roles');
      await page.getByTestId('agent-grid').waitFor();
      assert.equal(new URL(page.url()).pathname, '/');
    });
    const curatorToken = (await api('POST', '/api/auth/login', null, CURATOR, 200)).token;
    for (const path of ['/console/api/roles', '/console/api/users']) {
      const refused = await fetch(platform().baseUrl + path, { headers: { authorization: `Bearer ${curatorToken}` } });
      assert.equal(refused.status, 403, path);
      assert.match((await refused.json()).message, /users\.manage/);
    }
  });
});
