// Usage and quotas in the browser: a user past their quota reads when they may chat again; an admin
// sees the usage chart and downloads the CSV.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { signIn, snapshot, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';

describe('usage and quotas', () => {
  const { platform, withPage } = useBrowserSuite();

  async function call(method: string, route: string, body?: unknown, token?: string) {
    const res = await fetch(platform().baseUrl + route, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(res.ok, `${method} ${route}: ${res.status}`);
    return res.status === 204 ? null : res.json();
  }

  test('a user past their messages of the day is told so, with when they may chat again', async () => {
    const user = { email: 'quota@agentport.test', password: 'quota-password-1' };
    const registered = await call('POST', '/api/auth/register', { ...user, name: 'Quinn Quota' });
    const admin = await call('POST', '/api/auth/login', platform().admin);
    await call('PUT', `/console/api/quotas/users/${registered.user.id}`, { messagesPerDay: 1, tokensPerMonth: null }, admin.token);

    await withPage(async (page) => {
      await signIn(page, user);
      await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
      const input = page.getByTestId('chat-input');
      await input.fill('The one message of my day');
      await input.press('Enter');
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').waitFor();
      await page.getByTestId('chat-send').waitFor();

      const refused = page.waitForResponse((r) => r.url().endsWith('/chat/completions') && r.status() === 429);
      await input.fill('One too many');
      await input.press('Enter');
      const resetsAt = (await (await refused).json()).resetsAt as string;
      const error = page.getByTestId('message-error').last();
      await error.waitFor();
      const shown = await page.evaluate(
        (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }),
        resetsAt,
      );
      assert.equal(
        (await error.textContent())?.trim(),
        `You have reached your usage limit. You can chat again from ${shown}. Your usage page shows what you have used.`,
      );
      await snapshot(page, 'quota-exceeded');

      // Their usage page says the same, from the chat's header.
      await page.getByTestId('nav-usage').click();
      const quota = page.getByTestId('own-quota');
      await quota.filter({ hasText: 'Today: 1 of 1 messages' }).waitFor();
      assert.match((await quota.textContent()) ?? '', new RegExp(`more from ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
  });

  test('an admin sees the usage chart and downloads the CSV', async () => {
    const admin = await call('POST', '/api/auth/login', platform().admin);
    const agents = await call('GET', '/api/ai-agent', undefined, admin.token);
    const agentId = agents.items.find((a: { name: string }) => a.name === DEMO_AGENT).id;
    await call('POST', '/api/ai-agent/chat/completions', { agentId, messages: [{ role: 'user', content: 'Count me' }] }, admin.token);

    await withPage(
      async (page) => {
        await signIn(page, platform().admin);
        await page.getByTestId('console-link').click();
        await page.getByTestId('console-nav-console-usage').click();
        await page.waitForURL('**/console/usage');
        const chartChunk = page.waitForResponse((r) => /\/assets\/chartSetup-[\w-]+\.js$/.test(r.url()));
        const canvas = page.getByTestId('usage-chart-canvas');
        await canvas.waitFor();
        assert.equal((await chartChunk).status(), 200, 'Chart.js comes as a chunk of its own');
        // Drawn: the canvas has a size and pixels that are not all blank.
        await page.waitForFunction(() => {
          const el = document.querySelector<HTMLCanvasElement>('[data-testid="usage-chart-canvas"]');
          if (!el || el.width === 0) return false;
          const data = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
          return data.some((value, i) => i % 4 === 3 && value > 0);
        });
        const admins = page.getByTestId('usage-user-row').filter({ hasText: platform().admin.email });
        await admins.waitFor();
        assert.ok(Number((await page.getByTestId('usage-total-messages').textContent())?.replace(/\D/g, '')) >= 2);
        await snapshot(page, 'console-usage');

        const download = page.waitForEvent('download');
        await page.getByTestId('usage-download').click();
        const file = await download;
        assert.match(file.suggestedFilename(), /^usage-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
        const csv = (await readFile((await file.path())!, 'utf8')).replace(/^\uFEFF/, '');
        const lines = csv.trimEnd().split('\r\n');
        assert.equal(lines[0], 'day,user_email,user_name,agent_id,agent_name,messages,prompt_tokens,completion_tokens');
        assert.ok(
          lines.some((line) => line.includes(`,${platform().admin.email},`) && line.includes(`,${agentId},${DEMO_AGENT},`)),
          csv,
        );
      },
      { acceptDownloads: true },
    );
  });
});
