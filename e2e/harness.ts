// Browser-test harness: the sandbox (stand-in Coze + OpenAI-compatible model) in-process, the built
// server as a child process on a port of its choosing with a throwaway data directory, and Debian's Chromium.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { startSandbox } from '@agentport/sandbox';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { findChromium } from '../scripts/chromium.mjs';
import { assertFreshBuild } from '../scripts/lib/built.mjs';
import { LISTENING, listeningUrl, platformArgs, repoRoot, startProcess } from '../scripts/lib/processes.ts';

const webDist = path.join(repoRoot, 'web', 'dist');

export const ADMIN = { email: 'admin@agentport.test', password: 'e2e-admin-password-1' } as const;

export interface Platform {
  baseUrl: string;
  admin: typeof ADMIN;
  /** The server's output so far, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

/** Starts sandbox + server. Needs a current `npm run build` (server/dist and web/dist). */
export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<Platform> {
  assertFreshBuild('server', 'web');

  const sandbox = await startSandbox({ quiet: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agentport-e2e-'));
  const cleanUp = async () => {
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const server = await startProcess({
      name: 'the server',
      args: platformArgs,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dataDir,
        WEB_DIST_DIR: webDist,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        OPENAI_BASE_URL: sandbox.openaiBaseUrl,
        OPENAI_API_KEY: sandbox.token,
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
        DEMO_SEED: '1',
        LOG_LEVEL: 'warn',
        ...extraEnv,
      },
      ready: (line) => LISTENING.test(line),
    });
    return {
      baseUrl: listeningUrl(server.readyLine),
      admin: ADMIN,
      logs: server.output,
      close: async () => {
        await server.stop();
        await cleanUp();
      },
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules` to reach the platform by another name. */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error("No Chromium found: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH");
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

/**
 * A fresh browser context (its own storage, so its own session) pointed at the platform; `options`
 * e.g. a phone's viewport or a dark colour scheme.
 */
export async function newPage(
  browser: Browser,
  baseUrl: string,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 820 }, ...options });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

export interface BrowserSuite {
  /** The running platform (from inside a test or hook registered after `useBrowserSuite()`). */
  platform(): Platform;
  /** Runs `fn` on the page of a fresh browser context (its own session), then closes the context. */
  withPage<T>(fn: (page: Page) => Promise<T>, options?: BrowserContextOptions): Promise<T>;
}

/**
 * For a `describe` block: starts the platform (with `env`, more settings for the server) and
 * launches the browser before its tests, and closes both after them.
 */
export function useBrowserSuite(options: { browserArgs?: readonly string[]; env?: Record<string, string> } = {}): BrowserSuite {
  let platform: Platform | undefined;
  let browser: Browser | undefined;

  before(async () => {
    platform = await startPlatform(options.env);
    browser = await launchBrowser(options.browserArgs);
  });
  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  const started = (): { platform: Platform; browser: Browser } => {
    if (!platform || !browser) throw new Error('The browser suite is not running (its `before` hook failed or has not run)');
    return { platform, browser };
  };

  return {
    platform: () => started().platform,
    async withPage(fn, options) {
      const { platform, browser } = started();
      const { context, page } = await newPage(browser, platform.baseUrl, options);
      try {
        return await fn(page);
      } finally {
        await context.close();
      }
    },
  };
}

export async function signIn(page: Page, credentials: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.getByTestId('login-email').fill(credentials.email);
  await page.getByTestId('login-password').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('agent-grid').waitFor();
}

/**
 * Presses Stop on the answer streaming in `page` and waits until the server took it (202) and the
 * answer shows as stopped; returns that answer and the text it kept.
 */
export async function stopAnswer(page: Page): Promise<{ canceled: Locator; partial: string }> {
  const stopped = page.waitForResponse((r) => /\/conversations\/[0-9a-f-]+\/stop$/.test(r.url()) && r.status() === 202);
  await page.getByTestId('chat-stop').click();
  await stopped;
  const canceled = page.locator('[data-testid="message-assistant"][data-status="canceled"]');
  await canceled.getByTestId('message-canceled').waitFor();
  return { canceled, partial: (await canceled.getByTestId('message-content').textContent())?.trim() ?? '' };
}

/** Saves a screenshot into $E2E_SCREENSHOTS_DIR when it is set (to look at the UI); a no-op otherwise. */
export async function snapshot(page: Page, name: string): Promise<void> {
  const dir = process.env.E2E_SCREENSHOTS_DIR;
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
