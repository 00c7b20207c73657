// Console → Users: an admin finds a user, changes their role and disables them; the user's open page
// is signed out with the reason, and signing in again says the account is disabled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signIn, useBrowserSuite } from './harness.ts';

const NELL = { email: 'nell@agentport.test', password: 'nell-password-123' };

describe('console users', () => {
  const { platform, withPage } = useBrowserSuite();

  test('an admin searches, changes a role and disables a user, whose open page is signed out saying why', async () => {
    const register = await fetch(`${platform().baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...NELL, name: 'Nell Newcomer' }),
    });
    assert.equal(register.status, 201);

    await withPage(async (userPage) => {
      await signIn(userPage, NELL);

      await withPage(async (page) => {
        await signIn(page, platform().admin);
        await page.getByTestId('console-link').click();
        await page.getByRole('link', { name: 'Users' }).click();
        await page.waitForURL('**/console/users');
        await page.getByTestId('users-search').fill('NELL@');
        const row = page.locator('[data-testid="user-row"][data-email="nell@agentport.test"]');
        await row.waitFor();
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="user-row"]').length === 1);
        assert.notEqual((await row.getByTestId('user-last-sign-in').textContent())?.trim(), 'Never');

        const roleChanged = page.waitForResponse((r) => r.url().includes('/console/api/users/') && r.request().method() === 'PATCH');
        await row.getByTestId('user-role').selectOption('admin');
        assert.equal((await roleChanged).status(), 200);
        await row.getByTestId('user-role').selectOption('user');

        await row.getByTestId('user-disable').click();
        await page.locator('[data-testid="user-row"][data-status="disabled"]').waitFor();
        assert.equal((await row.getByTestId('user-status').textContent())?.trim(), 'Disabled');
      });

      // The user's page, open all along: its next request is refused and it goes to the sign-in page.
      await userPage.getByTestId('nav-usage').click();
      await userPage.waitForURL('**/login**');
      assert.match((await userPage.getByTestId('signed-out-reason').textContent()) ?? '', /This account is disabled/);
      await userPage.getByTestId('login-email').fill(NELL.email);
      await userPage.getByTestId('login-password').fill(NELL.password);
      await userPage.getByTestId('login-submit').click();
      assert.match((await userPage.getByTestId('login-error').textContent()) ?? '', /This account is disabled/);
    });
  });
});

describe('console invites', () => {
  const { platform, withPage } = useBrowserSuite({ env: { REGISTRATION: 'invite' } });

  test('an admin creates an invite whose link registers one person, and revokes another', async () => {
    const link = await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.goto('/console/users');
      await page.getByTestId('invite-create').click();
      const shown = (await page.getByTestId('invite-link').textContent())?.trim() ?? '';
      assert.match(shown, /\/register\?invite=inv_/);
      return shown;
    });
    await withPage(async (page) => {
      await page.goto(link);
      await page.getByTestId('register-email').fill('ola@agentport.test');
      await page.getByTestId('register-password').fill('ola-password-123');
      await page.getByTestId('register-submit').click();
      await page.getByTestId('agent-grid').waitFor();
    });
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.goto('/console/users');
      const used = page.locator('[data-testid="invite-row"][data-status="used"]');
      await used.waitFor();
      assert.match((await used.textContent()) ?? '', /used by ola@agentport\.test/);
      await page.getByTestId('invite-create').click();
      await page.locator('[data-testid="invite-row"][data-status="pending"]').getByTestId('invite-revoke').click();
      await page.locator('[data-testid="invite-row"][data-status="revoked"]').waitFor();
      assert.equal(await page.locator('[data-testid="invite-row"][data-status="pending"]').count(), 0);
    });
  });
});
