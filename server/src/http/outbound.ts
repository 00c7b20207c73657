// Fetching a URL the server was handed (a bot's icon; later, images in chat messages) without letting
// that URL reach into the network the server runs in (SSRF). On every hop:
// - https only, and only to public unicast addresses: no loopback, private, link-local (cloud
//   metadata at 169.254.169.254), CGNAT, unspecified, multicast, broadcast, reserved, IPv6 ULA or
//   link-local, nor an IPv4-mapped, IPv4-compatible or NAT64 spelling of those;
// - the check runs in the connection's own DNS lookup, so the address connected to is the address
//   checked: a name that answers differently to a second question (DNS rebinding) gains nothing;
// - redirects are followed by hand, at most MAX_REDIRECTS, each hop checked like the first;
// - one time-out for the whole download, and a byte limit (a larger Content-Length is refused before
//   reading, a longer body is cancelled).
// Origins the operator configured (`trustedOrigins`, e.g. an http COZE_API_BASE such as the local
// sandbox) are exempt: their scheme and address are the operator's choice.
//
// Every failure is an OutboundError whose reason and message are for the server's log only (they
// never hold the URL's query, often a signature). A caller shows users one generic sentence whatever
// failed, so that the answer tells nothing about the inside network (refused, closed, timed out).
import { lookup as systemLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, fetch, type Response } from 'undici';
import { sniffImageType, type ImageType } from './image-type.js';

export const MAX_REDIRECTS = 3;

export type OutboundFailure =
  | 'invalid-url' // not an http(s) URL, or one with credentials in it
  | 'insecure-url' // http to an origin that is not trusted
  | 'private-address' // the host is, or resolves to, an address that is not public
  | 'too-many-redirects'
  | 'http-status'
  | 'too-large'
  | 'timeout'
  | 'network'
  | 'not-image';

export class OutboundError extends Error {
  override name = 'OutboundError';

  constructor(
    readonly reason: OutboundFailure,
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface OutboundRules {
  /** Origins (`scheme://host:port`) fetched over their own scheme and from any address. */
  trustedOrigins: readonly string[];
  /** Name resolution: the system's (getaddrinfo, like any connection) unless a test injects its own. */
  resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
}

export interface OutboundRequest {
  rules: OutboundRules;
  maxBytes: number;
  /** For the whole download, every hop included. */
  timeoutMs: number;
  accept?: string;
  signal?: AbortSignal;
}

/**
 * Why `address` is not one the server may connect to (ipaddr.js's name of its range), or null for a
 * public unicast address. ipaddr.js keeps the IANA special-purpose ranges; two IPv6 spellings that
 * carry an IPv4 address are unwrapped here and the IPv4 address judged.
 */
export function refusedRange(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return refusedRange(v6.toIPv4Address().toString()); // ::ffff:a.b.c.d
    if (v6.match(NAT64)) return refusedRange(ipaddr.fromByteArray(v6.toByteArray().slice(12)).toString());
  }
  const range = ip.range();
  if (range !== 'unicast') return range;
  // ::a.b.c.d (deprecated, RFC 4291), which ipaddr.js counts as unicast; :: and ::1 were named above.
  return ip.kind() === 'ipv6' && ip.match(IPV4_COMPATIBLE) ? 'ipv4Compatible' : null;
}

const NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96'); // RFC 6052: the IPv4 address in the last 32 bits
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/** A URL as the log may show it: without its query (a signature) or fragment. */
export function urlForLog(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return origin + pathname;
  } catch {
    return '(not a URL)';
  }
}

/** GETs `url` under the rules: the body's bytes and its declared Content-Type (lower case, no parameters). */
export async function fetchOutbound(url: string, request: OutboundRequest): Promise<{ bytes: Buffer; contentType: string }> {
  const { rules, maxBytes, timeoutMs, signal } = request;
  const deadline = AbortSignal.timeout(timeoutMs);
  // Aborted once the download is over: ends whatever is still open (a body we stopped reading, a
  // connection being made).
  const over = new AbortController();
  const stop = AbortSignal.any(signal ? [signal, deadline, over.signal] : [deadline, over.signal]);
  const pools: Agent[] = [];

  const failure = (err: unknown): unknown => {
    if (signal?.aborted) return signal.reason;
    const refusal = outboundCause(err);
    if (refusal) return refusal;
    if (deadline.aborted) return new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`);
    return new OutboundError('network', `could not fetch (${errorCode(err)})`);
  };

  try {
    let target = parseUrl(url);
    for (let hop = 0; ; hop++) {
      const trusted = checkUrl(target, rules);
      // One pool per hop, closed when the download ends: its lookup knows whether this origin is checked.
      const pool = new Agent({ connect: { lookup: checkedLookup(rules.resolve ?? resolveWithSystem, !trusted) } });
      pools.push(pool);
      let res: Response;
      try {
        res = await fetch(target, {
          headers: request.accept ? { accept: request.accept } : {},
          redirect: 'manual',
          signal: stop,
          dispatcher: pool,
        });
      } catch (err) {
        throw failure(err);
      }
      if (REDIRECTS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get('location');
        if (!location) throw new OutboundError('http-status', `HTTP ${res.status} without a Location`, res.status);
        if (hop >= MAX_REDIRECTS) throw new OutboundError('too-many-redirects', `more than ${MAX_REDIRECTS} redirects`, res.status);
        target = parseUrl(location, target);
        continue;
      }
      if (!res.ok) throw new OutboundError('http-status', `HTTP ${res.status}`, res.status);
      const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const declared = Number(res.headers.get('content-length'));
      if (res.headers.has('content-length') && Number.isFinite(declared) && declared > maxBytes) {
        throw new OutboundError('too-large', `Content-Length ${declared} is over the ${maxBytes}-byte limit`, res.status);
      }
      return {
        bytes: await readAtMost(res, maxBytes).catch((err) => {
          throw failure(err);
        }),
        contentType,
      };
    }
  } finally {
    over.abort(new DOMException('outbound fetch finished', 'AbortError'));
    for (const pool of pools) pool.destroy().catch(() => {});
  }
}

/** fetchOutbound, keeping only a PNG, JPEG, GIF or WebP image, recognised by its bytes. */
export async function fetchImage(
  url: string,
  request: Omit<OutboundRequest, 'accept'>,
): Promise<{ bytes: Buffer; contentType: ImageType }> {
  const { bytes, contentType: declared } = await fetchOutbound(url, { ...request, accept: 'image/png, image/jpeg, image/gif, image/webp' });
  const contentType = sniffImageType(bytes);
  if (!contentType) {
    throw new OutboundError(
      'not-image',
      `not a PNG, JPEG, GIF or WebP image (${bytes.length} bytes, declared ${declared || 'no content type'})`,
    );
  }
  return { bytes, contentType };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function parseUrl(raw: string, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new OutboundError('invalid-url', base ? 'a redirect to something that is not a URL' : 'not a URL');
  }
}

/** Checks what can be checked before connecting; true when the origin is trusted (no address check). */
function checkUrl(url: URL, rules: OutboundRules): boolean {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundError('invalid-url', `a ${url.protocol} URL, not http(s)`);
  if (url.username || url.password) throw new OutboundError('invalid-url', `a URL with credentials (${url.host})`);
  if (rules.trustedOrigins.includes(url.origin)) return true;
  if (url.protocol !== 'https:') throw new OutboundError('insecure-url', `plain http to ${url.host}, which is not a configured origin`);
  // An address in the URL is connected to without a lookup: it is checked here instead.
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const range = isIP(literal) ? refusedRange(literal) : null;
  if (range) throw new OutboundError('private-address', `${url.host} is a ${range} address, not a public one`);
  return false;
}

const resolveWithSystem = (hostname: string) => systemLookup(hostname, { all: true });

/**
 * The lookup the connection makes: resolves the name, refuses it if any of its addresses is not
 * public (when `check`), and hands the connection only addresses that passed.
 */
function checkedLookup(resolve: NonNullable<OutboundRules['resolve']>, check: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((found) => {
        if (check) {
          for (const { address } of found) {
            const range = refusedRange(address);
            if (range)
              throw new OutboundError('private-address', `${hostname} resolves to ${address}, a ${range} address, not a public one`);
          }
        }
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (!wanted.length) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
        if (options.all)
          callback(
            null,
            wanted.map(({ address, family }) => ({ address, family })),
          );
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, ''));
  };
}

async function readAtMost(res: Response, maxBytes: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks);
      total += value.byteLength;
      if (total > maxBytes) throw new OutboundError('too-large', `the body is over the ${maxBytes}-byte limit`, res.status);
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The OutboundError a lookup refused with, however deep fetch wrapped it. */
function outboundCause(err: unknown): OutboundError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof OutboundError) return e;
  }
  return null;
}

/** The most specific error code (ECONNREFUSED, ENOTFOUND, UND_ERR_…) for the log. */
function errorCode(err: unknown): string {
  let code = 'error';
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const own = (e as NodeJS.ErrnoException).code;
    if (typeof own === 'string') code = own;
  }
  return code;
}
