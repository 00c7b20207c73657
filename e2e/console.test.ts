// An admin creates a native agent in the console; a user then finds it in their agent list.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

describe('console', () => {
  const { platform, withPage } = useBrowserSuite();

  test('a wrong password is reported next to the sign-in form', async () => {
    await withPage(async (page) => {
      await page.goto('/');
      await page.waitForURL('**/login');
      await page.getByTestId('login-email').fill(platform().admin.email);
      await page.getByTestId('login-password').fill('not-the-password');
      await page.getByTestId('login-submit').click();
      const error = page.getByTestId('login-error');
      await error.waitFor();
      assert.ok(((await error.textContent()) ?? '').trim().length > 0);
      assert.equal(new URL(page.url()).pathname, '/login');
    });
  });

  test('an admin creates a native agent and a newly registered user sees and chats with it', async () => {
    const name = 'Recipe Helper';
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.getByTestId('console-link').click();
      await page.getByTestId('agents-table').waitFor();

      await page.getByTestId('create-agent').click();
      const form = page.getByTestId('agent-form');
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('Model').fill('sandbox-model');
      await form.getByLabel('Description').fill('Suggests dinners from what is in your fridge.');
      await form.getByLabel('Prompt').fill('You suggest recipes.');
      await form.getByLabel('Opening statement').fill('What is in your fridge today?');
      await form.getByLabel(/Opening questions/).fill('Something with eggs\nA quick pasta');
      await snapshot(page, 'console-form');
      const created = page.waitForResponse((r) => r.url().endsWith('/console/api/ai-agent') && r.request().method() === 'POST');
      await form.getByTestId('agent-form-save').click();
      assert.equal((await created).status(), 201);

      const row = page.getByTestId('agent-row').filter({ hasText: name });
      await row.waitFor();
      assert.equal((await row.getByTestId('provider-badge').textContent())?.trim(), 'Native');
      assert.equal(await row.getByTestId('published-toggle').isChecked(), true);
      await snapshot(page, 'console');
    });

    // A plain user (registered through the UI) sees the agent and its opening questions.
    await withPage(async (page) => {
      await page.goto('/register');
      await page.getByTestId('register-name').fill('Uma User');
      await page.getByTestId('register-email').fill('uma@agentport.test');
      await page.getByTestId('register-password').fill('uma-password-123');
      await page.getByTestId('register-submit').click();
      await page.getByTestId('agent-grid').waitFor();
      assert.equal(await page.getByTestId('console-link').count(), 0, 'users get no console link');

      await page.getByTestId('agent-card').filter({ hasText: name }).click();
      await page.getByTestId('opening-statement').filter({ hasText: 'What is in your fridge today?' }).waitFor();
      await page.getByTestId('opening-question').filter({ hasText: 'A quick pasta' }).click();
      await page
        .locator('[data-testid="message-assistant"][data-status="completed"]')
        .filter({ hasText: 'You said: "A quick pasta"' })
        .waitFor();
      assert.equal(await page.getByTestId('opening-question').count(), 0, 'opening questions belong to a new conversation');

      // The console is for admins only: a user going there lands on the agent list.
      await page.goto('/console');
      await page.getByTestId('agent-grid').waitFor();
      assert.equal(new URL(page.url()).pathname, '/');
    });
  });

  test('an unpublished agent leaves the agent list, and a deleted one leaves the console', async () => {
    const name = 'Short-lived Agent';
    await withPage(async (page) => {
      await signIn(page, platform().admin);
      await page.goto('/console');
      await page.getByTestId('create-agent').click();
      const form = page.getByTestId('agent-form');
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('Model').fill('sandbox-model');
      await form.getByTestId('agent-form-save').click();
      const row = page.getByTestId('agent-row').filter({ has: page.getByTestId('agent-row-name').getByText(name, { exact: true }) });
      await row.waitFor();

      const patched = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.ok());
      await row.getByTestId('published-toggle').click();
      await patched;
      assert.equal(await row.getByTestId('published-toggle').isChecked(), false);
      await page.getByTestId('nav-agents').click();
      await page.getByTestId('agent-grid').waitFor();
      assert.equal(await page.getByTestId('agent-name').getByText(name, { exact: true }).count(), 0);

      await page.getByTestId('console-link').click();
      await row.getByTestId('delete-agent').click();
      await page.getByTestId('confirm-dialog').getByTestId('confirm-ok').click();
      await row.waitFor({ state: 'detached' });
    });
  });
});
