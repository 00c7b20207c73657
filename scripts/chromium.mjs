// The Chromium the browser tests drive. `findChromium()` looks where a browser already is; run as a
// script (`npm test` does, before the tests) it makes sure there is one: when none is found and we
// are root on Debian, it installs Debian's package, and otherwise says in one line what to do.
// Plain JS: it runs before tsx, and the e2e harness imports the same lookup.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Playwright's own browser cache, for machines where a browser was installed that way. */
function playwrightCached() {
  const cache = process.env.PLAYWRIGHT_BROWSERS_PATH || path.join(os.homedir(), '.cache', 'ms-playwright');
  if (!existsSync(cache)) return [];
  return readdirSync(cache)
    .filter((name) => name.startsWith('chromium-'))
    .sort()
    .reverse()
    .flatMap((name) => ['chrome-linux64/chrome', 'chrome-linux/chrome'].map((bin) => path.join(cache, name, bin)));
}

/** The first Chromium found: CHROMIUM_PATH, Debian's, then Playwright's cache; null when there is none. */
export function findChromium() {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) return existsSync(explicit) ? explicit : null;
  return [DEBIAN_CHROMIUM, ...playwrightCached()].find((candidate) => existsSync(candidate)) ?? null;
}

function ensureChromium() {
  const found = findChromium();
  if (found) return;
  if (process.env.CHROMIUM_PATH) {
    console.error(`[agentport] CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist: point it at a Chromium binary.`);
    process.exit(1);
  }
  const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canApt) {
    console.error(
      '[agentport] the browser tests need Chromium: install it (Debian: `apt-get install -y chromium`) or set CHROMIUM_PATH to one.',
    );
    process.exit(1);
  }
  console.log("[agentport] installing Debian's Chromium for the browser tests (apt-get install chromium)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq && apt-get install -y -qq chromium', { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (!findChromium()) {
    console.error('[agentport] apt-get installed chromium, but /usr/bin/chromium is still missing.');
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureChromium();
