/// <reference lib="dom" />
// An answer is written by a bot or a model, so it is inert in the page: it cannot restyle or cover
// the page, put forms or frames in it, or make the browser contact another host. And the page works
// when served over plain HTTP at a LAN name, as on a home or office network.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { signIn, useBrowserSuite } from './harness.ts';

const DEMO_AGENT = 'Sandbox Assistant';
/** A name that is not loopback (browsers treat those specially), resolved by Chromium to this machine. */
const LAN_HOST = 'agentport.lan';

/** Counts every connection made to it: a plain HTTP request and a TLS handshake alike. */
async function startLeakServer(): Promise<{ host: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the page with untrusted answers', () => {
  const { platform, withPage } = useBrowserSuite({ browserArgs: [`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`] });
  let leak: Awaited<ReturnType<typeof startLeakServer>>;
  before(async () => {
    leak = await startLeakServer();
  });
  after(() => leak.close());

  test('an answer with styles, forms, frames, remote images and script links is inert', async () => {
    await withPage(async (page) => {
      const leakRequests: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes(leak.host)) leakRequests.push(request.url());
      });
      await signIn(page, platform().admin);
      await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();

      // The sandbox model repeats the user's message in its answer: this is what the answer carries.
      const hostile = [
        '<style>body{display:none}</style>',
        `<div style="position:fixed;inset:0;z-index:99;background:url(https://${leak.host}/background)">covered</div>`,
        `<form action="https://${leak.host}/form"><input name="password"><textarea></textarea><select><option>a</option></select><button>Send</button></form>`,
        `<iframe src="https://${leak.host}/frame"></iframe><object data="https://${leak.host}/object"></object><embed src="https://${leak.host}/embed">`,
        `<link rel="stylesheet" href="https://${leak.host}/style.css"><meta http-equiv="refresh" content="0;url=https://${leak.host}/meta"><base href="https://${leak.host}/">`,
        `<img src="http://${leak.host}/pixel"> ![chart](https://${leak.host}/chart.png)`,
        '[click](javascript:alert(1)) [open](data:text/html,hello) [docs](https://example.com/docs)',
        // The page's own classes, even beside the ones highlighted code may have.
        '<p class="notice notice-error">alarm</p> <span class="hljs-keyword sidebar-open">wide</span> <code class="language-js modal">x</code>',
      ].join('\n\n'); // blank lines: each part its own block, so markdown after raw HTML is still markdown
      const input = page.getByTestId('chat-input');
      await input.fill(hostile);
      await input.press('Enter');
      const answer = page.locator('[data-testid="message-assistant"][data-status="completed"]').filter({ hasText: 'This is turn 1.' });
      await answer.waitFor({ state: 'attached' });
      const content = answer.getByTestId('message-content');

      // The page is still the page: visible, not covered, the composer usable.
      assert.equal(await input.isVisible(), true, 'the composer is visible');
      await input.scrollIntoViewIfNeeded();
      const onTop = await input.evaluate((el) => {
        const box = el.getBoundingClientRect();
        return el.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
      });
      assert.equal(onTop, true, 'nothing covers the composer');

      const rendered = await content.evaluate((el) => ({
        forbidden: [
          ...el.querySelectorAll('style, script, form, input, button, textarea, select, option, iframe, object, embed, link, meta, base'),
        ].map((node) => node.tagName.toLowerCase()),
        styled: el.querySelectorAll('[style], [class], [id]').length,
        images: [...el.querySelectorAll('img')].map((img) => img.getAttribute('src')),
        links: [...el.querySelectorAll<HTMLAnchorElement>('a[href]')].map((a) => ({
          href: a.getAttribute('href'),
          target: a.target,
          rel: a.rel,
          text: a.textContent ?? '',
        })),
      }));
      assert.deepEqual(rendered.forbidden, [], 'no style, form, control, frame or document-level element in the answer');
      assert.equal(rendered.styled, 0, 'no style, class or id attribute in the answer');
      assert.deepEqual(rendered.images, [], 'no image from another host');
      // Remote images become links the user may open; script and data links are gone.
      assert.deepEqual(
        rendered.links.map((link) => link.href),
        [`http://${leak.host}/pixel`, `https://${leak.host}/chart.png`, 'https://example.com/docs'],
      );
      assert.ok(
        rendered.links[1]!.text.includes('chart') && rendered.links[1]!.text.includes(leak.host),
        'an image link names the image and its host',
      );
      for (const link of rendered.links) {
        assert.equal(link.target, '_blank');
        assert.equal(link.rel, 'noopener noreferrer');
      }

      // Every image the answer holds has settled (loaded or failed), so any request it made has been made.
      await content.evaluate((el) =>
        Promise.all(
          [...el.querySelectorAll('img')].map(
            (img) =>
              img.complete ||
              new Promise((resolve) => {
                img.addEventListener('load', resolve);
                img.addEventListener('error', resolve);
              }),
          ),
        ),
      );
      assert.deepEqual(leakRequests, [], 'the page requested nothing from the other host');
      assert.equal(leak.connections(), 0, 'the other host received no connection');
    });
  });

  test('an avatar on another host is not loaded: the agent shows its initials', async () => {
    await withPage(async (page) => {
      const { token } = (await (await page.request.post('/api/auth/login', { data: platform().admin })).json()) as { token: string };
      const created = await page.request.post('/console/api/ai-agent', {
        headers: { authorization: `Bearer ${token}` },
        data: { name: 'Tracking Pixel', model: 'sandbox-model', avatar: `https://${leak.host}/avatar.png` },
      });
      assert.equal(created.status(), 201);
      await signIn(page, platform().admin);
      const card = page.getByTestId('agent-card').filter({ hasText: 'Tracking Pixel' });
      assert.equal(await card.getByTestId('agent-avatar-initials').textContent(), 'TP');
      assert.equal(await card.getByTestId('agent-avatar-img').count(), 0);
      assert.equal(leak.connections(), 0, 'the other host received no connection');
    });
  });

  test('the page works over plain HTTP at a LAN name: sign in, chat, copy an answer', async () => {
    await withPage(async (page) => {
      const lanUrl = new URL(platform().baseUrl);
      lanUrl.hostname = LAN_HOST;
      const failed: string[] = [];
      page.on('requestfailed', (request) => {
        if (new URL(request.url()).hostname === LAN_HOST) failed.push(request.url());
      });
      await page.goto(new URL('/login', lanUrl).href);
      await page.getByTestId('login-email').fill(platform().admin.email);
      await page.getByTestId('login-password').fill(platform().admin.password);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('agent-card').filter({ hasText: DEMO_AGENT }).click();
      const input = page.getByTestId('chat-input');
      await input.fill('Hello over the LAN');
      await input.press('Enter');
      await page.locator('[data-testid="message-assistant"][data-status="completed"]').filter({ hasText: 'This is turn 1.' }).waitFor();
      assert.equal(new URL(page.url()).protocol, 'http:');
      assert.deepEqual(failed, [], 'every request to the platform succeeded');

      // Copying works without the Clipboard API, which a page over plain HTTP does not get.
      assert.equal(await page.evaluate(() => window.isSecureContext), false);
      const answer = page.getByTestId('message-assistant').last();
      await answer.getByTestId('copy-message').click();
      await answer.getByTestId('copy-message').filter({ hasText: 'Copied' }).waitFor();
      await input.focus();
      await page.keyboard.press('Control+V');
      assert.equal(await input.inputValue(), (await answer.getByTestId('message-content').textContent())!.trim());
    });
  });
});
