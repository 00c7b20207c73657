// GET /metrics (METRICS=1): this process's figures in Prometheus's text format, for holders of
// METRICS_TOKEN only. Each instance (each worker) counts its own answers; Prometheus adds them up.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerToken } from '../auth/guard.js';
import type { Database, PoolCounts } from '../db/index.js';
import type { Provider } from '../db/schema.js';
import { HttpError } from '../http/errors.js';
import { errorResponses } from '../http/schemas.js';
import type { ChatMetrics } from './chat-metrics.js';

/** Every provider, so that each series exists (at 0) from the start: a rate over a missing series is no data, not 0. */
const PROVIDERS = Object.keys({ native: true, coze: true } satisfies Record<Provider, true>) as Provider[];

/** Upstream time to first token: from a fast model on the same network to a Coze bot calling plugins first. */
const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

export interface PlatformMetrics {
  registry: Registry;
  /** What ChatRun reports to: a few calls per answer, never per delta. */
  chat: ChatMetrics;
}

/** A registry of this app's own (not prom-client's global one): tests run several apps in one process. */
export function platformMetrics(database: Database): PlatformMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const open = new Gauge({
    name: 'agentport_chat_streams_open',
    help: 'Answers in progress on this instance (streamed, or collected for stream:false).',
    registers,
  });
  const started = new Counter({
    name: 'agentport_chats_started_total',
    help: 'Answers begun (the chat was accepted and its provider asked), by provider.',
    labelNames: ['provider'] as const,
    registers,
  });
  const failed = new Counter({
    name: 'agentport_chats_failed_total',
    help: 'Answers that ended with an error (upstream, time-out, too long, stalled client, shutdown), by provider.',
    labelNames: ['provider'] as const,
    registers,
  });
  const firstToken = new Histogram({
    name: 'agentport_upstream_first_token_seconds',
    help: 'Seconds from asking the provider for an answer to its first text or reasoning delta, by provider.',
    labelNames: ['provider'] as const,
    buckets: FIRST_TOKEN_BUCKETS,
    registers,
  });
  const deltas = new Counter({
    name: 'agentport_relayed_deltas_total',
    help: 'Text and reasoning deltas relayed from the provider into answers, by provider (added when each answer ends).',
    labelNames: ['provider'] as const,
    registers,
  });
  for (const provider of PROVIDERS) {
    started.inc({ provider }, 0);
    failed.inc({ provider }, 0);
    deltas.inc({ provider }, 0);
    firstToken.zero({ provider });
  }

  // PostgreSQL's pool, read when scraped. The embedded database (PGlite) is one connection inside
  // this process: there is no pool to show, and its queries' cost is in the process's CPU and event-loop figures.
  const poolCounts = database.poolCounts?.bind(database);
  if (poolCounts) {
    const poolGauge = (name: string, help: string, read: (counts: PoolCounts) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(poolCounts()));
        },
      });
    poolGauge('agentport_db_pool_connections', "PostgreSQL connections open in this instance's pool (busy and idle).", (c) => c.total);
    poolGauge('agentport_db_pool_idle_connections', "PostgreSQL connections open and idle in this instance's pool.", (c) => c.idle);
    poolGauge(
      'agentport_db_pool_waiting_queries',
      'Queries waiting for a PostgreSQL connection (the pool is at its maximum).',
      (c) => c.waiting,
    );
  }

  return {
    registry,
    chat: {
      answerStarted(provider) {
        open.inc();
        started.inc({ provider });
      },
      firstDelta(provider, seconds) {
        firstToken.observe({ provider }, seconds);
      },
      answerEnded(provider, outcome) {
        open.dec();
        if (outcome.failed) failed.inc({ provider });
        if (outcome.deltas > 0) deltas.inc({ provider }, outcome.deltas);
      },
    },
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

const badToken = () => new HttpError(401, 'Metrics are for the scraper: send Authorization: Bearer <METRICS_TOKEN>', 'unauthorized');

export const metricsRoutes: FastifyPluginAsync<{ registry: Registry; token: string }> = async (app, { registry, token }) => {
  // Both sides hashed to one length, so timingSafeEqual compares in constant time and leaks not even the token's length.
  const expected = sha256(token);
  app.get(
    '/metrics',
    {
      // 200 is Prometheus's text format, not JSON: only the errors have a schema.
      schema: { response: errorResponses },
      onRequest: async (request) => {
        const sent = bearerToken(request);
        if (sent === null || !timingSafeEqual(sha256(sent), expected)) throw badToken();
      },
    },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
};
