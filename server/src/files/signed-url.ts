// Short-lived links to a chat file for a native agent's model (NATIVE_IMAGE_URLS=signed): the model
// endpoint fetches the image itself, with no user token, so the link carries its own proof: an
// HMAC-SHA256 (FILE_URL_SECRET, the same on every instance) of the file id and the link's expiry.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedUrlConfig {
  /** The platform's address as the model endpoint reaches it (PUBLIC_URL). */
  publicUrl: string;
  secret: string;
  ttlSeconds: number;
}

const signatureOf = (secret: string, fileId: string, expires: number) =>
  createHmac('sha256', secret).update(`${fileId}.${expires}`).digest('base64url');

export function signedFileUrl(config: SignedUrlConfig, fileId: string, nowMs = Date.now()): string {
  const expires = Math.floor(nowMs / 1000) + config.ttlSeconds;
  const url = new URL(`/api/ai-agent/files/${fileId}/content`, config.publicUrl);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', signatureOf(config.secret, fileId, expires));
  return url.toString();
}

/** The link is this file's, unaltered and not expired. */
export function isValidSignature(secret: string, fileId: string, expires: string, signature: string, nowMs = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 < nowMs) return false;
  const expected = Buffer.from(signatureOf(secret, fileId, Number(expires)));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
