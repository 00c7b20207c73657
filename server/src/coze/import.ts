// Bringing a Coze bot in as an agent, and refreshing it later. The bot's logic stays in Coze; the
// platform keeps its name, description, onboarding and a local copy of its avatar (Coze's icon URLs
// are signed and expire).
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { agents, type Agent } from '../db/schema.js';
import { HttpError, conflict } from '../http/errors.js';
import { OutboundError } from '../http/outbound.js';
import { removeStoredUrl, saveImage, type FileStorage } from '../storage/storage.js';
import type { BotCatalog } from './catalog.js';
import type { CozeBotDetail, CozeClient } from './openapi/client.js';
import { CozeApiError, CozeErrorCode } from './openapi/errors.js';

export const COZE_MODEL = 'coze-proxy';
const AVATAR_MAX_BYTES = 2 * 1024 * 1024;
const AVATAR_TIMEOUT_MS = 10_000;
/**
 * Whatever stopped the download: refused address, refused connection, time-out, not an image... The
 * reason goes to the server's log only, so that an icon URL cannot be used to probe the inside network.
 */
export const AVATAR_DOWNLOAD_FAILED = "The bot's avatar could not be downloaded (the server log says why).";

export interface CozeImporterDeps {
  db: Db;
  storage: FileStorage;
  client: CozeClient;
  catalog: BotCatalog;
  spaceId: string;
}
export interface ImportResult {
  agent: Agent;
  avatarError?: string;
}

/** A Coze failure as the console shows it: 404 for a bot Coze doesn't have, 502 with Coze's logid otherwise. */
export function cozeHttpError(error: unknown): unknown {
  if (!(error instanceof CozeApiError)) return error;
  if (error.code === CozeErrorCode.NotFound) return new HttpError(404, error.userMessage, 'coze_not_found', { logId: error.logId });
  return new HttpError(502, error.userMessage, `coze_${error.code > 0 ? error.code : 'unreachable'}`, { logId: error.logId });
}

export async function findImported(db: Db, botIds: string[]): Promise<Map<string, string>> {
  if (!botIds.length) return new Map();
  const rows = await db
    .select({ id: agents.id, botId: sql<string>`${agents.thirdPartyIntegration} -> 'coze' ->> 'botId'` })
    .from(agents)
    .where(
      sql`${agents.thirdPartyIntegration} -> 'coze' ->> 'botId' in (${sql.join(
        botIds.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
  return new Map(rows.map((row) => [row.botId, row.id]));
}

export async function importBot(
  deps: CozeImporterDeps,
  request: { botId: string; name?: string; description?: string },
): Promise<ImportResult> {
  const { db, storage } = deps;
  const existing = (await findImported(db, [request.botId])).get(request.botId);
  if (existing) throw conflict('This Coze bot is already imported', { agentId: existing });
  const bot = await readPublishedBot(deps, request.botId);
  const avatar = await downloadAvatar(deps, bot.iconUrl);
  try {
    const [agent] = await db
      .insert(agents)
      .values({
        name: request.name?.trim() || bot.name,
        description: request.description ?? bot.description,
        avatar: avatar.url,
        provider: 'coze',
        model: COZE_MODEL,
        prompt: '',
        openingStatement: bot.openingStatement,
        openingQuestions: bot.openingQuestions,
        published: true,
        thirdPartyIntegration: { coze: { botId: bot.botId, spaceId: deps.spaceId, syncedAt: new Date().toISOString() } },
      })
      .returning();
    return { agent: agent!, ...(avatar.error ? { avatarError: avatar.error } : {}) };
  } catch (error) {
    await removeStoredUrl(storage, avatar.url);
    // Two imports of one bot at once: the database's unique index lets one win.
    const winner = (await findImported(db, [request.botId])).get(request.botId);
    if (winner) throw conflict('This Coze bot is already imported', { agentId: winner });
    throw error;
  }
}

export async function syncAgent(deps: CozeImporterDeps, agent: Agent): Promise<ImportResult> {
  const coze = agent.thirdPartyIntegration?.coze;
  if (agent.provider !== 'coze' || !coze) throw new HttpError(400, 'Only agents imported from Coze can be synced', 'not_coze');
  let bot: CozeBotDetail;
  try {
    bot = await deps.client.getBot(coze.botId);
  } catch (error) {
    if (error instanceof CozeApiError && error.code === CozeErrorCode.NotFound) {
      throw new HttpError(
        404,
        'This bot no longer exists in Coze (or is no longer published to the API). The agent was left as it was.',
        'coze_bot_gone',
        { logId: error.logId },
      );
    }
    throw cozeHttpError(error);
  }
  const avatar = await downloadAvatar(deps, bot.iconUrl);
  const [updated] = await deps.db
    .update(agents)
    .set({
      name: bot.name,
      description: bot.description,
      openingStatement: bot.openingStatement,
      openingQuestions: bot.openingQuestions,
      ...(avatar.url ? { avatar: avatar.url } : {}),
      thirdPartyIntegration: { coze: { ...coze, syncedAt: new Date().toISOString() } },
      updatedAt: new Date(),
    })
    .where(eq(agents.id, agent.id))
    .returning();
  if (avatar.url) await removeStoredUrl(deps.storage, agent.avatar);
  return { agent: updated!, ...(avatar.error ? { avatarError: avatar.error } : {}) };
}

/** The bot's detail, provided it is published to the API in the configured space. */
async function readPublishedBot(deps: CozeImporterDeps, botId: string): Promise<CozeBotDetail> {
  try {
    if (!(await deps.catalog.find(botId))) {
      throw new HttpError(
        404,
        `Bot ${botId} is not among the bots published to the API in Coze space ${deps.spaceId}. Publish it as an API service in Coze, or check COZE_SPACE_ID.`,
        'coze_bot_not_in_space',
      );
    }
    return await deps.client.getBot(botId);
  } catch (error) {
    throw cozeHttpError(error);
  }
}

/** A failed download never fails an import: the agent gets no avatar, and a generic error. */
async function downloadAvatar(deps: CozeImporterDeps, iconUrl: string): Promise<{ url: string | null; error?: string }> {
  if (!iconUrl) return { url: null };
  try {
    const icon = await deps.client.downloadIcon(iconUrl, { maxBytes: AVATAR_MAX_BYTES, timeoutMs: AVATAR_TIMEOUT_MS });
    return { url: await saveImage(deps.storage, 'avatars', icon.bytes, icon.contentType) };
  } catch (error) {
    return { url: null, error: error instanceof OutboundError ? AVATAR_DOWNLOAD_FAILED : "The bot's avatar could not be stored." };
  }
}
