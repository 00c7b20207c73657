// The Coze space's published bots, read page by page and cached briefly: Coze's rate limits are
// small, and an admin pages and searches the same list. A per-instance cache is fine here (a stale
// minute does no harm); its key includes the space, base URL and credential so it never crosses them.
import { createHash } from 'node:crypto';
import type { CozeClient, CozeBotSummary } from './openapi/client.js';
import type { CozeConfig } from './openapi/config.js';

const PAGE_SIZE = 50;
const MAX_BOTS = 2000;

export class BotCatalog {
  private cached: { key: string; at: number; bots: Promise<CozeBotSummary[]> } | null = null;

  constructor(
    private readonly client: CozeClient,
    private readonly config: CozeConfig,
    private readonly ttlMs: number,
  ) {}

  private get key(): string {
    const credential = this.config.auth.kind === 'token' ? this.config.auth.token : this.config.auth.appId;
    return createHash('sha256').update([this.config.baseUrl, this.config.spaceId, credential].join('\n')).digest('hex');
  }

  /** Every published bot of the space (fresh at most ttl ago). */
  all(): Promise<CozeBotSummary[]> {
    const key = this.key;
    if (this.cached && this.cached.key === key && Date.now() - this.cached.at < this.ttlMs) return this.cached.bots;
    const bots = this.fetchAll();
    this.cached = { key, at: Date.now(), bots };
    bots.catch(() => {
      if (this.cached?.bots === bots) this.cached = null;
    }); // never cache a failure
    return bots;
  }

  async find(botId: string): Promise<CozeBotSummary | null> {
    return (await this.all()).find((bot) => bot.botId === botId) ?? null;
  }

  private async fetchAll(): Promise<CozeBotSummary[]> {
    const bots: CozeBotSummary[] = [];
    for (let page = 1; bots.length < MAX_BOTS; page++) {
      const { items, total } = await this.client.listPublishedBots({ page, pageSize: PAGE_SIZE });
      bots.push(...items);
      if (items.length < PAGE_SIZE || bots.length >= total) break;
    }
    return bots;
  }
}
