// CLI: `node --import tsx sandbox/src/main.ts [--port 0] [--token T] [--space-id S] [--quiet]
//   [--oauth-app-id ID --oauth-key-id KID --oauth-public-key-file key.pem]`
// Prints one JSON line ({url, openaiBaseUrl, cozeBaseUrl, token, spaceId}) and serves until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSandbox, type SandboxOptions } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    token: { type: 'string' },
    'space-id': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    'oauth-app-id': { type: 'string' },
    'oauth-key-id': { type: 'string' },
    'oauth-public-key-file': { type: 'string' },
  },
});

const options: SandboxOptions = { port: Number(values.port), quiet: values.quiet };
if (values.token) options.token = values.token;
if (values['space-id']) options.spaceId = values['space-id'];
if (values['oauth-app-id'] && values['oauth-key-id'] && values['oauth-public-key-file']) {
  options.oauthApp = {
    appId: values['oauth-app-id'],
    keyId: values['oauth-key-id'],
    publicKeyPem: readFileSync(values['oauth-public-key-file'], 'utf8'),
  };
}

const sandbox = await startSandbox(options);
const { url, openaiBaseUrl, cozeBaseUrl, token, spaceId } = sandbox;
process.stdout.write(`${JSON.stringify({ url, openaiBaseUrl, cozeBaseUrl, token, spaceId })}\n`);

const stop = (): void => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
