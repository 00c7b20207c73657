// Downloading a bot's avatar from Coze's CDN. Icon URLs are signed and expire, so an import keeps
// the bytes, not the URL. The download follows the server's outbound rules (http/outbound.ts: https
// to public addresses only, redirects checked hop by hop, bounded in time and size), sends no Coze
// credentials, and keeps only a PNG, JPEG, GIF or WebP image recognised by its bytes (these files are
// served back from our own origin). A failure is logged with its reason and the URL without its
// query (a signature), then thrown as the OutboundError; callers show a generic message.
import { fetchImage, OutboundError, urlForLog, type OutboundRules } from '../../http/outbound.js';
import type { ImageType } from '../../http/image-type.js';
import type { CozeLogger } from './http.js';

export interface IconDownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The one exception to the outbound rules: the origin of COZE_API_BASE. The operator named that
 * server, so its icons may come over http or from a private address (the sandbox on
 * http://127.0.0.1 that tests and the demo use). Any other origin, Coze's CDN included, follows the rules.
 */
export const iconRules = (cozeBaseUrl: string): OutboundRules => ({ trustedOrigins: [new URL(cozeBaseUrl).origin] });

export async function downloadIcon(
  url: string,
  { rules, logger, ...options }: IconDownloadOptions & { rules: OutboundRules; logger?: CozeLogger },
): Promise<{ bytes: Buffer; contentType: ImageType }> {
  try {
    return await fetchImage(url, { ...options, rules });
  } catch (err) {
    if (err instanceof OutboundError) {
      logger?.warn(
        { icon: { url: urlForLog(url), reason: err.reason, httpStatus: err.httpStatus } },
        `Bot icon not downloaded: ${err.message}`,
      );
    }
    throw err;
  }
}
