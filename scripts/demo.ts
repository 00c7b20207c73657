// `npm run demo`: the platform on the embedded database, with the offline sandbox playing Coze and
// the model, so everything works on a machine with no internet and no Coze account.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const env = process.env;
const admin = { email: env.ADMIN_EMAIL ?? 'admin@example.com', password: env.ADMIN_PASSWORD ?? 'agentport-demo' };
const children: ChildProcess[] = [];

function stopAll(code = 0): never {
  for (const child of children) child.kill('SIGTERM');
  process.exit(code);
}
process.once('SIGINT', () => stopAll());
process.once('SIGTERM', () => stopAll());

/** Starts a child and resolves with the first stdout line that `ready` accepts; later output passes through. */
async function start(name: string, args: string[], childEnv: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  child.once('exit', (code) => {
    console.error(`[demo] ${name} exited (${code ?? 'signal'}); stopping.`);
    stopAll(code ?? 1);
  });
  const lines = createInterface({ input: child.stdout! });
  const readyLine = new Promise<string>((resolve) => {
    lines.on('line', (line) => (ready(line) ? resolve(line) : process.stdout.write(`${line}\n`)));
  });
  return Promise.race([readyLine, once(child, 'exit').then(() => { throw new Error(`${name} did not start`); })]);
}

const sandbox = JSON.parse(await start('sandbox', ['--import', 'tsx', 'sandbox/src/main.ts', '--port', env.SANDBOX_PORT ?? '0'], env,
  (line) => line.startsWith('{'))) as { url: string; openaiBaseUrl: string; cozeBaseUrl: string; token: string; spaceId: string };

const realCoze = Boolean(env.COZE_API_TOKEN || env.COZE_OAUTH_APP_ID);
const serverEnv: NodeJS.ProcessEnv = {
  ...env,
  PORT: env.PORT ?? '3000',
  LOG_LEVEL: env.LOG_LEVEL ?? 'warn', // the demo's console is for the banner, not request logs
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  DEMO_SEED: '1',
  OPENAI_BASE_URL: env.OPENAI_BASE_URL ?? sandbox.openaiBaseUrl,
  OPENAI_API_KEY: env.OPENAI_API_KEY ?? 'sk-sandbox',
  ...(realCoze ? {} : { COZE_API_BASE: sandbox.cozeBaseUrl, COZE_API_TOKEN: sandbox.token, COZE_SPACE_ID: sandbox.spaceId }),
};
const listening = await start('server', ['server/dist/main.js'], serverEnv, (line) => line.includes('listening on'));
const url = listening.slice(listening.indexOf('http'));

console.log(`
  agentport demo is running

  Open:      ${url}
  Sign in:   ${admin.email} / ${admin.password}
  Model:     ${env.OPENAI_BASE_URL ? env.OPENAI_BASE_URL : `offline sandbox model at ${sandbox.openaiBaseUrl}`}
  Coze:      ${realCoze ? `your Coze account at ${env.COZE_API_BASE ?? 'https://api.coze.cn'}` : `offline Coze sandbox at ${sandbox.cozeBaseUrl} (no COZE_API_TOKEN set)`}
  Data:      ${env.DATA_DIR ?? './data'} (embedded database and files)

  Try: chat with "Sandbox Assistant", or Console → Import agent → Coze to bring in a sandbox bot.
  Ctrl+C stops everything.
`);
