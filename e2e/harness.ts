// Browser-test harness: the sandbox (stand-in Coze + OpenAI-compatible model) in-process, the built
// server as a child process on a free port with a throwaway data directory, and Debian's Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@agentport/sandbox';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findChromium } from '../scripts/chromium.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const serverMain = path.join(repoRoot, 'server', 'dist', 'main.js');
const webDist = path.join(repoRoot, 'web', 'dist');

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export const ADMIN = { email: 'admin@agentport.test', password: 'e2e-admin-password-1' } as const;

export interface Platform {
  baseUrl: string;
  admin: typeof ADMIN;
  /** The server's output so far, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls the readiness endpoint until it answers 200; fails early if the server process exits. */
async function waitForHealth(baseUrl: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: string | null = null;
  const onExit = (code: number | null, signal: string | null) => { exited = `exited with ${signal ?? code}`; };
  child.once('exit', onExit);
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`The server ${exited} before it was ready:\n${logs()}`);
      try {
        const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval, not a wait for readiness
    }
    throw new Error(`The server was not ready within ${READY_TIMEOUT_MS} ms:\n${logs()}`);
  } finally {
    child.off('exit', onExit);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => { clearTimeout(killer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** Starts sandbox + server. Needs `npm run build` first (server/dist and web/dist). */
export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<Platform> {
  if (!existsSync(serverMain)) throw new Error(`${serverMain} is missing: run \`npm run build\` first`);
  if (!existsSync(path.join(webDist, 'index.html'))) throw new Error(`${webDist} is missing: run \`npm run build\` first`);

  const sandbox = await startSandbox({ quiet: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agentport-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const logs = () => output.slice(-8_000);

  const child = spawn(process.execPath, [serverMain], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
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
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });

  const close = async () => {
    await stopChild(child);
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, logs);
  } catch (err) {
    await close();
    throw err;
  }
  return { baseUrl, admin: ADMIN, logs, close };
}

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules` to reach the platform by another name. */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: install Debian\'s (apt-get install -y chromium) or set CHROMIUM_PATH');
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
}

/** A fresh browser context (its own storage, so its own session) pointed at the platform. */
export async function newPage(browser: Browser, baseUrl: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 820 } });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

export interface BrowserSuite {
  /** The running platform (from inside a test or hook registered after `useBrowserSuite()`). */
  platform(): Platform;
  /** Runs `fn` on the page of a fresh browser context (its own session), then closes the context. */
  withPage<T>(fn: (page: Page) => Promise<T>): Promise<T>;
}

/**
 * For a `describe` block: starts the platform and launches the browser before its tests, and
 * closes both after them.
 */
export function useBrowserSuite(options: { browserArgs?: readonly string[] } = {}): BrowserSuite {
  let platform: Platform | undefined;
  let browser: Browser | undefined;

  before(async () => {
    platform = await startPlatform();
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
    async withPage(fn) {
      const { platform, browser } = started();
      const { context, page } = await newPage(browser, platform.baseUrl);
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

/** Saves a screenshot into $E2E_SCREENSHOTS_DIR when it is set (to look at the UI); a no-op otherwise. */
export async function snapshot(page: Page, name: string): Promise<void> {
  const dir = process.env.E2E_SCREENSHOTS_DIR;
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
