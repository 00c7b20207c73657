// Downloading a bot's avatar from Coze's CDN. Icon URLs are signed and expire, so an import keeps
// the bytes, not the URL. Rules: http(s) URLs only; a plain GET with no Coze credentials; an
// overall time-out; only `image/*` answers (SVG refused: it can carry script and these files are
// served back from our own origin); never more than `maxBytes` read — a larger Content-Length is
// refused before reading, and a body that streams past the limit is cancelled. Every failure is an
// IconDownloadError whose `reason` says which rule failed and whose message never holds the URL
// (its query is a signature).
import { IconDownloadError } from './errors.js';

export interface IconDownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function downloadIcon(
  fetchImpl: typeof fetch,
  url: string,
  { maxBytes, timeoutMs, signal }: IconDownloadOptions,
): Promise<{ bytes: Buffer; contentType: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new IconDownloadError('invalid-url', 'Icon URL is not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new IconDownloadError('invalid-url', `Icon URL must be http(s), not ${parsed.protocol.replace(/:$/, '')}.`);
  }

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('icon download timed out', 'TimeoutError'));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  const failure = (err: unknown): unknown => {
    if (signal?.aborted) return signal.reason;
    if (err instanceof IconDownloadError) return err;
    if (timedOut) return new IconDownloadError('timeout', `Icon download took longer than ${timeoutMs} ms.`, null, err);
    return new IconDownloadError('network', 'Icon download failed: could not fetch the URL.', null, err);
  };

  try {
    let res: Response;
    try {
      res = await fetchImpl(parsed, { method: 'GET', headers: { Accept: 'image/*' }, redirect: 'follow', signal: controller.signal });
    } catch (err) {
      throw failure(err);
    }
    if (!res.ok) throw new IconDownloadError('http-status', `Icon download answered HTTP ${res.status}.`, res.status);
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!contentType.startsWith('image/') || contentType === 'image/svg+xml') {
      throw new IconDownloadError('not-image', `Icon URL answered ${contentType || 'no content type'}, not an image.`, res.status);
    }
    const declared = Number(res.headers.get('content-length'));
    if (res.headers.has('content-length') && Number.isFinite(declared) && declared > maxBytes) {
      throw new IconDownloadError('too-large', `Icon is ${declared} bytes, over the ${maxBytes}-byte limit.`, res.status);
    }
    if (!res.body) return { bytes: Buffer.alloc(0), contentType };

    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) throw new IconDownloadError('too-large', `Icon is over the ${maxBytes}-byte limit.`, res.status);
        chunks.push(value);
      }
    } catch (err) {
      throw failure(err);
    } finally {
      reader.cancel().catch(() => {});
    }
    return { bytes: Buffer.concat(chunks), contentType };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Drops the connection of any response we stopped reading (error paths above).
    controller.abort(new DOMException('icon download finished', 'AbortError'));
  }
}
