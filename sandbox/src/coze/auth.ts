// Bearer tokens (the personal token, or an OAuth token the sandbox issued) and the OAuth JWT exchange.
import { createPublicKey, randomBytes } from 'node:crypto';
import { jwtVerify, errors as joseErrors } from 'jose';
import type { RequestContext } from '../context.js';
import { bearer, isRecord, nowSeconds, sendJson } from '../http.js';
import { cozeError } from './respond.js';

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const AUDIENCES = ['api.coze.cn', 'api.coze.com'];
const DEFAULT_TTL = 900;
const MAX_TTL = 86_399;

/**
 * True when the request carries an accepted token; otherwise answers 4100 and returns false.
 * Sandbox choice: HTTP 401 for this error (Coze's status is undocumented; clients must read `code`).
 */
export function checkCozeAuth(ctx: RequestContext): boolean {
  const token = bearer(ctx.req);
  const expiresAt = token ? ctx.core.accessTokens.get(token) : undefined;
  if (token && (token === ctx.core.token || (expiresAt !== undefined && expiresAt > nowSeconds()))) return true;
  cozeError(ctx, 4100, 'authentication is invalid', 401);
  return false;
}

const oauthError = (ctx: RequestContext, status: number, code: string, message: string): void =>
  sendJson(ctx.res, status, { error_code: code, error_message: message });

/** POST /api/permission/oauth2/token: a signed, single-use JWT → czs_ access token with an ABSOLUTE expires_in. */
export async function exchangeJwt(ctx: RequestContext): Promise<void> {
  const app = ctx.core.oauthApp;
  if (!app) return oauthError(ctx, 401, 'invalid_client', 'No OAuth app is configured in this sandbox');
  const body = isRecord(ctx.body) ? ctx.body : {};
  if (body.grant_type !== JWT_GRANT) return oauthError(ctx, 400, 'unsupported_grant_type', `grant_type must be ${JWT_GRANT}`);
  const duration = body.duration_seconds === undefined ? DEFAULT_TTL : Number(body.duration_seconds);
  if (!Number.isInteger(duration) || duration <= 0)
    return oauthError(ctx, 400, 'invalid_request', 'duration_seconds must be a positive integer');
  const jwt = bearer(ctx.req);
  if (!jwt) return oauthError(ctx, 401, 'invalid_client', 'Authorization: Bearer <JWT> is required');

  let jti: string;
  try {
    const key = createPublicKey(app.publicKeyPem); // SPKI or PKCS#1 PEM
    const { payload, protectedHeader } = await jwtVerify(jwt, key, {
      algorithms: ['RS256'],
      issuer: app.appId,
      audience: AUDIENCES,
      requiredClaims: ['exp', 'jti'],
    });
    if (protectedHeader.kid !== app.keyId)
      return oauthError(ctx, 401, 'invalid_client', `Unknown public key id ${protectedHeader.kid ?? '(none)'}`);
    jti = String(payload.jti);
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return oauthError(ctx, 401, 'invalid_grant', 'The JWT has expired');
    return oauthError(ctx, 401, 'invalid_client', `Invalid JWT: ${(error as Error).message}`);
  }
  if (ctx.core.seenJtis.has(jti)) return oauthError(ctx, 401, 'invalid_grant', `The JWT jti ${jti} has already been used`);
  ctx.core.seenJtis.add(jti);

  const accessToken = `czs_${randomBytes(24).toString('hex')}`;
  const expiresIn = nowSeconds() + Math.min(duration, MAX_TTL);
  ctx.core.accessTokens.set(accessToken, expiresIn);
  sendJson(ctx.res, 200, { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' });
}
