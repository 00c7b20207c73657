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
