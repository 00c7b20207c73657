// Bot avatars, served by the sandbox at signed URLs that expire, like Coze's CDN links.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestContext, SandboxCore } from '../context.js';
import { nowSeconds, sendText } from '../http.js';
import { findBot, type BotDef } from '../bots.js';
import { solidPng } from '../png.js';

export const ICON_TTL_SECONDS = 3600;

const signature = (core: SandboxCore, botId: string, expires: number): string =>
  createHmac('sha256', core.iconSecret).update(`${botId}:${expires}`).digest('base64');

/** `<url>/icons/<botId>.png?lk3s=…&x-expires=…&x-signature=…`, valid until `expiresAt`. */
export function iconUrl(core: SandboxCore, botId: string, expiresAt = nowSeconds() + ICON_TTL_SECONDS): string {
  const sig = encodeURIComponent(signature(core, botId, expiresAt));
  return `${core.url}/icons/${botId}.png?lk3s=50ccb0c5&x-expires=${expiresAt}&x-signature=${sig}`;
}

const SVG_WITH_SCRIPT =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(document.domain)</script><rect width="64" height="64"/></svg>';

const images = new Map<string, Buffer>();

function image(bot: BotDef): Buffer {
  let png = images.get(bot.id);
  if (!png) {
    // The huge one is stored uncompressed: a valid 1100×1000 PNG of about 3.3 MB.
    png = bot.icon === 'huge' ? solidPng(1100, 1000, bot.color, 0) : solidPng(64, 64, bot.color);
    images.set(bot.id, png);
  }
  return png;
}

/** GET /icons/<botId>.png: 403 on a bad signature or past x-expires, then whatever the bot's icon kind says. */
export function serveIcon(ctx: RequestContext): void {
  const bot = findBot(ctx.params[0] ?? '');
  if (!bot) return sendText(ctx.res, 404, 'Not Found');
  const expires = Number(ctx.query['x-expires']);
  const expected = Buffer.from(signature(ctx.core, bot.id, expires));
  const given = Buffer.from(ctx.query['x-signature'] ?? '');
  if (!Number.isInteger(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return sendText(ctx.res, 403, 'Forbidden: signature mismatch');
  }
  if (expires <= nowSeconds()) return sendText(ctx.res, 403, 'Forbidden: url expired');
  if (bot.icon === 'broken') return sendText(ctx.res, 500, 'Internal Server Error');
  if (bot.icon === 'html')
    return sendText(
      ctx.res,
      200,
      '<!doctype html><html><body><h1>Welcome</h1><p>This is not an image.</p></body></html>',
      'text/html; charset=utf-8',
    );
  if (bot.icon === 'svg') return sendText(ctx.res, 200, SVG_WITH_SCRIPT, 'image/png');
  if (bot.icon === 'metadata') {
    // An inside address on loopback (the shape of a metadata request): a test never leaves the machine.
    ctx.res.writeHead(302, { location: 'http://127.0.0.2/latest/meta-data/', 'content-length': 0 });
    return void ctx.res.end();
  }
  const png = image(bot);
  const contentType = bot.icon === 'mislabelled' ? 'application/octet-stream' : 'image/png';
  ctx.res.writeHead(200, { 'content-type': contentType, 'content-length': png.length, 'cache-control': 'private, max-age=3600' });
  ctx.res.end(png);
}
