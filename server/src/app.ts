// Assembles the platform: one plugin per feature, registered here and nowhere else.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { agentRoutes } from './agents/routes.js';
import { authRoutes } from './auth/routes.js';
import type { ChatDeps } from './chat/chat-run.js';
import { cozeProvider } from './chat/providers/coze.js';
import { nativeProvider } from './chat/providers/native.js';
import type { ChatProvider } from './chat/providers/types.js';
import { conversationRoutes } from './chat/conversations.js';
import { chatRoutes } from './chat/routes.js';
import { AnswerFollowers } from './chat/follow-answer.js';
import { LiveAnswers } from './chat/live-answers.js';
import { StopSignals } from './chat/stop-signals.js';
import type { Config } from './config.js';
import { CozeClient } from './coze/openapi/client.js';
import { cozeRoutes } from './coze/routes.js';
import type { Database } from './db/index.js';
import { installErrorHandler, noRouteBody } from './http/errors.js';
import type { OutboundRules } from './http/outbound.js';
import { serializersOnFirstUse } from './http/lazy-compile.js';
import { errorForLog } from './http/redact.js';
import { API_PATH, installResponseCheck } from './http/response-check.js';
import { Health, errorResponses } from './http/schemas.js';
import { installValidation } from './http/validation.js';
import { filesRoutes } from './files/routes.js';
import { sweepUnattachedFiles } from './files/files.js';
import { noChatMetrics } from './metrics/chat-metrics.js';
import { roleRoutes } from './roles/routes.js';
import { uploadsRoutes } from './storage/routes.js';
import { usageRoutes } from './usage/routes.js';
import { databaseStorage, localStorage, type FileStorage } from './storage/storage.js';
import { userRoutes } from './users/routes.js';

export interface AppOptions {
  config: Config;
  database: Database;
  /** Tests may replace a provider; production uses the real ones. */
  providers?: Partial<Record<'native' | 'coze', ChatProvider>>;
  /** false: no log; a stream: the log's lines go there (tests read them). */
  logger?: boolean | { write(line: string): void };
  /** Tests: every JSON body must be exactly what its route's response schema declares (see http/response-check.ts). */
  checkResponses?: boolean;
  /** Tests may trust a local server for images named by URL in chat messages; production follows the outbound rules alone. */
  imageRules?: OutboundRules;
}

export interface App {
  app: FastifyInstance;
  storage: FileStorage;
  stops: StopSignals;
  coze: CozeClient | null;
}

export async function buildApp({
  config,
  database,
  providers = {},
  logger = true,
  checkResponses = false,
  imageRules = { trustedOrigins: [] },
}: AppOptions): Promise<App> {
  const app = Fastify({
    logger: logger
      ? {
          level: config.logLevel,
          // Credentials never reach a log line.
          redact: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
          // Nor do secrets, stored data or chat text that an error carries.
          serializers: { err: errorForLog },
          ...(logger === true ? {} : { stream: logger }),
        }
      : false,
    bodyLimit: config.bodyLimitBytes,
    // A client has this long to send its request, headers and body, however slowly it trickles
    // them in; reading the answer is not limited (a chat streams for minutes). Node looks for late
    // requests every `connectionsCheckingInterval`, 30 s by default: each second here. (The server
    // is created with the request time-out too: Node checks the headers' against it there.)
    requestTimeout: config.requestTimeoutMs,
    http: { headersTimeout: config.requestTimeoutMs, requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    trustProxy: config.trustProxy,
    schemaController: { compilersFactory: { buildSerializer: serializersOnFirstUse } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorateRequest('user', null);
  installErrorHandler(app);
  installValidation(app);
  if (checkResponses) installResponseCheck(app);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        // Images only from here (avatars are stored here), embedded, or read by the page itself (a chat
        // file is fetched with the user's token and shown as a blob: URL): an answer cannot make a
        // browser contact another host; the web app shows remote images in answers as links.
        'img-src': ["'self'", 'data:', 'blob:'],
        // Styles only from the app's own stylesheet (Vue sets element styles through the CSSOM, which
        // this does not restrict): no style tag or attribute in an answer could apply.
        'style-src': ["'self'"],
        // The API is same-origin; nothing else is fetched from the page.
        'connect-src': ["'self'"],
        // Over plain HTTP (e.g. a LAN address) upgrading the page's requests to https would break it.
        'upgrade-insecure-requests': config.tlsInFront ? [] : null,
      },
    },
    // HSTS only when the platform is reached over https.
    strictTransportSecurity: config.tlsInFront,
  });

  const { db } = database;
  const storage = config.storageDriver === 'database' ? databaseStorage(db) : localStorage(config.dataDir);
  const stops = new StopSignals(database);
  const cozeClient = config.coze && new CozeClient(config.coze, { logger: app.log });
  // Listening for stop signals and for followers of answers waits for the database, which may still be
  // migrating (startPlatform builds the app meanwhile): the routes are set up first, this awaited last.
  const live = new LiveAnswers(database, { log: app.log });
  const followers = new AnswerFollowers(database);
  const listening = Promise.all([stops.start(), live.start(), followers.start()]);
  // prom-client is loaded only when metrics are on: nothing of it at start-up otherwise.
  const prometheus = config.metrics && (await import('./metrics/prometheus.js'));
  const metrics = prometheus && config.metrics && { ...prometheus.platformMetrics(database), token: config.metrics.token };

  const deps: ChatDeps = {
    db,
    storage,
    stops,
    live,
    followers,
    leaseSeconds: config.chatLeaseSeconds,
    answers: config.answers,
    log: app.log,
    metrics: metrics ? metrics.chat : noChatMetrics,
    providers: {
      native: providers.native ?? nativeProvider({ ...config.openai, signedUrls: config.signedFileUrls }),
      coze: providers.coze ?? cozeProvider(cozeClient),
    },
  };

  app.get('/api/health', { schema: { response: { 200: Health, ...errorResponses } } }, async () => ({
    status: 'ok' as const,
    database: database.kind,
  }));
  await app.register(authRoutes, { db, config });
  await app.register(agentRoutes, { db, storage });
  await app.register(chatRoutes, {
    deps,
    attachments: { db, storage, limits: config.files, imageRules, log: app.log },
  });
  await app.register(conversationRoutes, { db, stops, storage });
  await app.register(filesRoutes, { db, storage, limits: config.files, signedUrls: config.signedFileUrls });
  await app.register(cozeRoutes, {
    db,
    storage,
    coze: cozeClient && config.coze && { client: cozeClient, config: config.coze },
    listCacheSeconds: config.cozeListCacheSeconds,
  });
  await app.register(roleRoutes, { db });
  await app.register(uploadsRoutes, { storage });
  await app.register(usageRoutes, { db });
  await app.register(userRoutes, { db });
  // Off unless METRICS=1: then the route exists only for the scraper's token.
  if (prometheus && metrics) await app.register(prometheus.metricsRoutes, metrics);
  const servesWebApp = await serveWebApp(app, config.webDistDir);
  app.setNotFoundHandler((request, reply) => {
    // History-mode pages of the web app load index.html; anything else is a clear JSON 404.
    const isPage = request.method === 'GET' && !API_PATH.test(request.url);
    if (servesWebApp && isPage) return reply.type('text/html').sendFile('index.html');
    return reply.code(404).send(noRouteBody(request));
  });

  // Files sent with no message (or left by a conversation deleted with its agent or user) go after
  // FILE_UNATTACHED_HOURS: each instance looks every 10 minutes; a row is deleted once however many do.
  const sweep = setInterval(() => {
    sweepUnattachedFiles(db, storage, config.files.unattachedHours).catch((err: unknown) =>
      app.log.warn({ err }, 'could not remove unattached files'),
    );
  }, 10 * 60_000).unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  // Before the server waits for open connections: end every local answer so each is saved and its
  // stream closes, and every follow stream (its client resumes on another instance).
  app.addHook('preClose', async () => {
    stops.abortAll('shutdown');
    followers.closeAll();
  });
  await listening;
  return { app, storage, stops, coze: cozeClient || null };
}

/** Serves the built web app when there is one (`npm run build`); the API works without it. */
async function serveWebApp(app: FastifyInstance, distDir: string): Promise<boolean> {
  if (!existsSync(path.join(distDir, 'index.html'))) return false;
  await app.register(fastifyStatic, { root: distDir, wildcard: false, index: 'index.html' });
  return true;
}
