/// <reference lib="dom" />
// `npm run screenshot`: writes docs/chat.png, the README's picture of the chat page, from a real
// conversation. The browser tests' platform (sandbox + built server, throwaway data) and Chromium;
// the sandbox's Code Reviewer bot is imported from the stand-in Coze and asked its first suggested
// question, so the answer has markdown, lists and highlighted code blocks.
import path from 'node:path';
import { BOTS } from '@agentport/sandbox';
import { launchBrowser, newPage, signIn, startPlatform } from '../e2e/harness.ts';
import { repoRoot } from './lib/processes.ts';

const OUTPUT = path.join(repoRoot, 'docs', 'chat.png');

async function post(baseUrl: string, route: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

const platform = await startPlatform();
try {
  const { token } = (await post(platform.baseUrl, '/api/auth/login', platform.admin)) as { token: string };
  await post(platform.baseUrl, '/console/api/ai-agent/import/coze', { cozeBotId: BOTS.codeReview.id }, token);

  const browser = await launchBrowser();
  try {
    const { page } = await newPage(browser, platform.baseUrl, { viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
    await signIn(page, platform.admin);
    await page.getByTestId('agent-card').filter({ hasText: BOTS.codeReview.name }).click();
    await page.getByTestId('opening-question').first().click();
    await page.locator('[data-testid="message-assistant"][data-status="completed"]').waitFor();
    await page.getByTestId('suggestion-chip').first().waitFor();
    // The highlighted code (its chunk loads once code shows) and the conversation's title in the list.
    await page.locator('.markdown pre code .hljs-keyword').first().waitFor();
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
    await page.getByTestId('conversation-item').first().waitFor();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: OUTPUT });
    console.log(`Wrote ${path.relative(repoRoot, OUTPUT)}`);
  } finally {
    await browser.close();
  }
} catch (err) {
  console.error(platform.logs());
  throw err;
} finally {
  await platform.close();
}
