// Listing the space's bots (deprecated and current shapes) and reading one bot.
import type { RequestContext } from '../context.js';
import { findBot, listedBots, type BotDef } from '../bots.js';
import { iconUrl } from './icons.js';
import { cozeError, cozeOk } from './respond.js';

const OWNER_USER_ID = '7350000000000000099';

/** Positive integer query parameter, or the default; undefined when malformed. */
function pageParam(raw: string | undefined, fallback: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 ? Math.min(value, max) : undefined;
}

/** One page of `bots`, or undefined after answering an error (missing/unknown space, bad paging). */
function page(ctx: RequestContext, spaceParam: string, indexParam: string, bots: BotDef[]): { items: BotDef[]; total: number } | undefined {
  const spaceId = ctx.query[spaceParam];
  if (!spaceId) return void cozeError(ctx, 4000, `Invalid parameter: ${spaceParam} is required`);
  if (spaceId !== ctx.core.spaceId) return void cozeError(ctx, 4200, `Requested resource space_id=${spaceId} does not exist`);
  const index = pageParam(ctx.query[indexParam], 1, 1_000_000);
  const size = pageParam(ctx.query.page_size, 20, 100);
  if (index === undefined || size === undefined) {
    return void cozeError(ctx, 4000, `Invalid parameter: ${indexParam} and page_size must be positive integers`);
  }
  return { items: bots.slice((index - 1) * size, index * size), total: bots.length };
}

/** GET /v1/space/published_bots_list (deprecated): bot_id/bot_name, publish_time a string. */
export function publishedBotsList(ctx: RequestContext): void {
  const result = page(ctx, 'space_id', 'page_index', listedBots('published_online'));
  if (!result) return;
  const spaceBots = result.items.map((bot) => ({
    bot_id: bot.id,
    bot_name: bot.name,
    description: bot.description,
    icon_url: iconUrl(ctx.core, bot.id),
    publish_time: String(bot.publishedAt),
  }));
  cozeOk(ctx, { space_bots: spaceBots, total: result.total });
}

/** GET /v1/bots: id/name, numeric times. publish_status defaults to published_online. */
export function listBots(ctx: RequestContext): void {
  const status = ctx.query.publish_status ?? 'published_online';
  if (!['published_online', 'published_draft', 'unpublished_draft', 'all'].includes(status)) {
    return cozeError(ctx, 4000, `Invalid parameter: publish_status ${status}`);
  }
  const result = page(ctx, 'workspace_id', 'page_num', listedBots(status));
  if (!result) return;
  const items = result.items.map((bot) => ({
    id: bot.id,
    name: bot.name,
    icon_url: iconUrl(ctx.core, bot.id),
    folder_id: '',
    updated_at: bot.updatedAt,
    description: bot.description,
    is_published: bot.published,
    published_at: bot.published ? bot.publishedAt : 0,
    owner_user_id: OWNER_USER_ID,
  }));
  cozeOk(ctx, { items, total: result.total });
}

/** GET /v1/bots/{bot_id} and deprecated GET /v1/bot/get_online_info?bot_id=. */
export function botDetail(ctx: RequestContext): void {
  const botId = ctx.params[0] ?? ctx.query.bot_id ?? '';
  if (!botId) return cozeError(ctx, 4000, 'Invalid parameter: bot_id is required');
  const bot = findBot(botId);
  if (!bot) return cozeError(ctx, 4200, `Requested resource bot_id=${botId} does not exist`);
  cozeOk(ctx, {
    bot_id: bot.id,
    name: bot.name,
    description: bot.description,
    icon_url: iconUrl(ctx.core, bot.id),
    create_time: bot.createdAt,
    update_time: bot.updatedAt,
    version: `${bot.updatedAt}000`,
    bot_mode: 0,
    prompt_info: { prompt: bot.prompt },
    onboarding_info: { prologue: bot.prologue, suggested_questions: bot.suggestedQuestions },
    model_info: { model_id: '1718000000', model_name: bot.modelName, temperature: 0.7, max_tokens: 4096 },
    plugin_info_list: bot.plugins.map((name, i) => ({
      plugin_id: `73500000000000001${String(i).padStart(2, '0')}`,
      name,
      description: `The ${name} plugin`,
      icon_url: '',
      api_info_list: [
        {
          api_id: `73500000000000002${String(i).padStart(2, '0')}`,
          name: name.toLowerCase().replace(/\s+/g, '_'),
          description: `Calls ${name}`,
        },
      ],
    })),
    workflow_info_list: [],
    knowledge: { knowledge_infos: [] },
    variables: bot.variables,
    owner_user_id: OWNER_USER_ID,
  });
}
