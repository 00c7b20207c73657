// The register page follows the platform's registration mode (REGISTRATION=closed | invite).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, startPlatform, type Platform } from './harness.ts';

describe('registration modes in the web app', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  /** Runs `fn` against a platform started with `env`, on a fresh page. */
  async function withPlatform(
    env: Record<string, string>,
    fn: (platform: Platform, page: Awaited<ReturnType<typeof newPage>>['page']) => Promise<void>,
  ) {
    const platform = await startPlatform(env);
    const { context, page } = await newPage(browser, platform.baseUrl);
    try {
      await fn(platform, page);
    } finally {
      await context.close();
      await platform.close();
    }
  }

  test('closed: the register page says so instead of offering a form', async () => {
    await withPlatform({ REGISTRATION: 'closed' }, async (_platform, page) => {
      await page.goto('/register');
      const notice = page.getByTestId('register-closed');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', /Registration is closed/);
      assert.equal(await page.getByTestId('register-submit').count(), 0);
    });
  });

  test('invite: an invite link fills in the code, and the account is created with it', async () => {
    await withPlatform({ REGISTRATION: 'invite' }, async (platform, page) => {
      const post = async (route: string, body: unknown, token?: string) =>
        (
          await fetch(platform.baseUrl + route, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: JSON.stringify(body),
          })
        ).json();
      const { token } = await post('/api/auth/login', platform.admin);
      const { code } = await post('/console/api/invites', {}, token);

      await page.goto(`/register?invite=${encodeURIComponent(code)}`);
      const invite = page.getByTestId('register-invite');
      await invite.waitFor();
      assert.equal(await invite.inputValue(), code);
      await page.getByTestId('register-email').fill('ivy@agentport.test');
      await page.getByTestId('register-password').fill('ivy-password-123');
      await page.getByTestId('register-submit').click();
      await page.getByTestId('agent-grid').waitFor();

      // The code is used up: a second account cannot be made with it.
      await page.evaluate(() => localStorage.clear());
      await page.goto(`/register?invite=${encodeURIComponent(code)}`);
      await page.getByTestId('register-email').fill('ivan@agentport.test');
      await page.getByTestId('register-password').fill('ivan-password-123');
      await page.getByTestId('register-submit').click();
      const error = page.getByTestId('register-error');
      await error.waitFor();
      assert.match((await error.textContent()) ?? '', /invite code is not valid/);
    });
  });
});
