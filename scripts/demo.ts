// `npm run demo`: the platform on the embedded database, with the offline sandbox playing Coze and
// the model, so everything works on a machine with no internet and no Coze account.
import {
  isSandboxReady,
  killAllProcessesNow,
  LISTENING,
  listeningUrl,
  platformArgs,
  sandboxMain,
  startProcess,
  stopAllProcesses,
} from './lib/processes.js';

const env = process.env;
const admin = { email: env.ADMIN_EMAIL ?? 'admin@example.com', password: env.ADMIN_PASSWORD ?? 'agentport-demo' };

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await stopAllProcesses();
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
process.on('exit', killAllProcessesNow);

/** Starts a child; its other output passes through, and when it stops on its own the demo stops. */
async function start(name: string, args: string[], childEnv: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<string> {
  try {
    const child = await startProcess({
      name,
      args,
      env: childEnv,
      ready,
      stderr: 'inherit',
      onLine: (line) => {
        if (!ready(line)) process.stdout.write(`${line}\n`);
      },
    });
    void child.exited.then(({ code, signal }) => {
      if (stopping) return;
      console.error(`[demo] ${name} exited (${signal ?? code}); stopping.`);
      void stopAll(code ?? 1);
    });
    return child.readyLine;
  } catch (err) {
    console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
    return stopAll(1);
  }
}

const sandbox = JSON.parse(
  await start('sandbox', ['--import', 'tsx', sandboxMain, '--port', env.SANDBOX_PORT ?? '0'], env, isSandboxReady),
) as { url: string; openaiBaseUrl: string; cozeBaseUrl: string; token: string; spaceId: string };

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
const url = listeningUrl(await start('server', platformArgs, serverEnv, (line) => LISTENING.test(line)));

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
