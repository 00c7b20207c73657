// The outbound rules (http/outbound.ts) on their own: which addresses count as public, which bytes are
// an image, and fetches through a local server whose names a test resolver answers, so that a name
// can "resolve" to a loopback, private or metadata address without any DNS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sniffImageType } from '../src/http/image-type.js';
import { OutboundError, fetchImage, fetchOutbound, refusedRange, type OutboundRules, type ResolvedAddress } from '../src/http/outbound.js';
import { rejectsWith, startLocalServer, type LocalServer } from './coze-client-support.js';

describe('outbound: addresses', () => {
  test('loopback, private, link-local, CGNAT, unspecified, multicast, reserved and their IPv6 forms are refused', () => {
    const refused = {
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.31.255.254': 'private',
      '192.168.1.1': 'private',
      '169.254.169.254': 'linkLocal', // cloud metadata
      '100.64.0.1': 'carrierGradeNat',
      '0.0.0.0': 'unspecified',
      '224.0.0.1': 'multicast',
      '255.255.255.255': 'broadcast',
      '192.0.2.1': 'reserved',
      '240.0.0.1': 'reserved',
      '::1': 'loopback',
      '::': 'unspecified',
      'fc00::1': 'uniqueLocal',
      'fd12:3456::1': 'uniqueLocal',
      'fe80::1': 'linkLocal',
      'ff02::1': 'multicast',
      '::ffff:127.0.0.1': 'loopback', // IPv4-mapped
      '::ffff:a9fe:a9fe': 'linkLocal', // 169.254.169.254, mapped
      '64:ff9b::a00:1': 'private', // NAT64 of 10.0.0.1
      '::7f00:1': 'ipv4Compatible', // ::127.0.0.1, IPv4-compatible
      '2001:db8::1': 'reserved',
      'not-an-ip': 'not an IP address',
    };
    for (const [address, range] of Object.entries(refused)) assert.equal(refusedRange(address), range, address);
  });

  test('public unicast addresses are allowed, IPv4 behind IPv6 spellings too', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      assert.equal(refusedRange(address), null, address);
    }
  });
});

describe('outbound: image bytes', () => {
  const bytes = (hex: string, tail = '00000000') => Buffer.from(hex + tail, 'hex');
  test('PNG, JPEG, GIF and WebP are recognised by their signatures; anything else is not an image', () => {
    assert.equal(sniffImageType(bytes('89504e470d0a1a0a')), 'image/png');
    assert.equal(sniffImageType(bytes('ffd8ffe0')), 'image/jpeg');
    assert.equal(sniffImageType(Buffer.from('GIF87a\x01\x00', 'latin1')), 'image/gif');
    assert.equal(sniffImageType(Buffer.from('GIF89a\x01\x00', 'latin1')), 'image/gif');
    assert.equal(sniffImageType(Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1')), 'image/webp');
    for (const other of [
      '<svg xmlns="http://www.w3.org/2000/svg"/>',
      '<?xml version="1.0"?><svg/>',
      '<!doctype html>',
      'RIFF\x24\x00\x00\x00WAVEfmt ',
      '\x89PNG',
      '',
    ]) {
      assert.equal(sniffImageType(Buffer.from(other, 'latin1')), null, JSON.stringify(other));
    }
  });
});

describe('outbound: fetching', () => {
  let server: LocalServer;
  let port: string;
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  /** Told when a request for /silent, which is never answered, arrives. */
  let heardSilent: () => void = () => {};
  before(async () => {
    server = await startLocalServer((req, res) => {
      if (req.url === '/silent') return heardSilent();
      if (req.url === '/to-metadata-name') {
        res.writeHead(302, { location: 'https://metadata.test/latest/meta-data/' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    port = new URL(server.url).port;
  });
  after(() => server.close());

  /** A resolver that answers from a table and counts its questions. */
  function resolver(table: Record<string, string[]>) {
    const asked: string[] = [];
    const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
      asked.push(hostname);
      const found = table[hostname];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return { asked, resolve };
  }
  const request = (rules: OutboundRules) => ({ rules, maxBytes: 1000, timeoutMs: 2000 });
  const reason = (r: string) => (e: OutboundError) => {
    assert.ok(e instanceof OutboundError, String(e));
    assert.equal(e.reason, r);
  };

  test('a name that resolves to a loopback, private or mapped address is refused, and nothing connects', async () => {
    const { resolve } = resolver({ 'icons.test': ['127.0.0.1'], 'cdn.test': ['10.0.0.7'], 'mapped.test': ['::ffff:127.0.0.1'] });
    const connections = server.connections.length;
    for (const host of ['icons.test', 'cdn.test', 'mapped.test']) {
      await rejectsWith<OutboundError>(fetchOutbound(`https://${host}:${port}/a.png`, request({ trustedOrigins: [], resolve })), (e) => {
        reason('private-address')(e);
        assert.match(e.message, new RegExp(`^${host} resolves to`));
      });
    }
    assert.equal(server.connections.length, connections);
  });

  test('every address of a name is checked: one private address among public ones refuses the name', async () => {
    const { resolve } = resolver({ 'mixed.test': ['127.0.0.1', '93.184.215.14'] });
    const connections = server.connections.length;
    await rejectsWith(
      fetchOutbound(`https://mixed.test:${port}/a.png`, request({ trustedOrigins: [], resolve })),
      reason('private-address'),
    );
    assert.equal(server.connections.length, connections);
  });

  test('an address written in the URL is checked without a lookup', async () => {
    const { asked, resolve } = resolver({});
    // Loopback spellings only: were the check gone, no request would leave this machine (the metadata
    // address is covered by the table above).
    for (const url of [
      `https://127.0.0.1:${port}/`,
      `https://[::1]:${port}/`,
      `https://[::ffff:127.0.0.1]:${port}/`,
      `https://0x7f.1:${port}/`,
      `https://2130706433:${port}/`,
    ]) {
      await rejectsWith(fetchOutbound(url, request({ trustedOrigins: [], resolve })), reason('private-address'));
    }
    assert.deepEqual(asked, []);
  });

  test('plain http is refused before any lookup unless the origin is trusted', async () => {
    const { asked, resolve } = resolver({ 'icons.test': ['127.0.0.1'] });
    await rejectsWith(fetchOutbound('http://icons.test/a.png', request({ trustedOrigins: [], resolve })), reason('insecure-url'));
    await rejectsWith(fetchOutbound('https://user:pw@icons.test/a.png', request({ trustedOrigins: [], resolve })), reason('invalid-url'));
    assert.deepEqual(asked, []);
  });

  test('a trusted origin connects to the one address its lookup answered (no second resolution to race)', async () => {
    const { asked, resolve } = resolver({ 'icons.test': ['127.0.0.1'] });
    // icons.test is in no real DNS: the bytes can only come through the connection's own lookup.
    const result = await fetchImage(
      `http://icons.test:${port}/a.png?x-signature=s`,
      request({ trustedOrigins: [`http://icons.test:${port}`], resolve }),
    );
    assert.deepEqual(result, { bytes: png, contentType: 'image/png' });
    assert.deepEqual(asked, ['icons.test']);
    assert.equal(server.requests.at(-1)?.headers.host, `icons.test:${port}`);
  });

  test('a redirect from a trusted origin to a name of an inside address is refused at its lookup', async () => {
    // Loopback stands in for the metadata address: nothing here may ever leave this machine.
    const { asked, resolve } = resolver({ 'icons.test': ['127.0.0.1'], 'metadata.test': ['127.0.0.2'] });
    const rules = { trustedOrigins: [`http://icons.test:${port}`], resolve };
    await rejectsWith<OutboundError>(fetchOutbound(`http://icons.test:${port}/to-metadata-name`, request(rules)), (e) => {
      reason('private-address')(e);
      assert.match(e.message, /metadata\.test resolves to 127\.0\.0\.2/);
    });
    assert.deepEqual(asked, ['icons.test', 'metadata.test']);
  });

  test('a failure to connect reads like any other failure to the caller, with its cause for the log', async () => {
    const closed = await startLocalServer(() => {});
    const { port: closedPort } = new URL(closed.url);
    await closed.close();
    const { resolve } = resolver({ 'icons.test': ['127.0.0.1'] });
    await rejectsWith<OutboundError>(
      fetchOutbound(`http://icons.test:${closedPort}/a.png`, request({ trustedOrigins: [`http://icons.test:${closedPort}`], resolve })),
      (e) => {
        reason('network')(e);
        assert.match(e.message, /ECONNREFUSED/);
      },
    );
  });

  test('a download not over within its time-out fails as a timeout', { timeout: 10_000 }, async () => {
    const { resolve } = resolver({ 'icons.test': ['127.0.0.1'] });
    const rules = { trustedOrigins: [`http://icons.test:${port}`], resolve };
    await rejectsWith(fetchOutbound(`http://icons.test:${port}/silent`, { ...request(rules), timeoutMs: 100 }), reason('timeout'));
  });

  test("the caller's abort ends a download at once, with the caller's reason", { timeout: 10_000 }, async () => {
    const { resolve } = resolver({ 'icons.test': ['127.0.0.1'] });
    const rules = { trustedOrigins: [`http://icons.test:${port}`], resolve };
    const heard = new Promise<void>((resolveHeard) => {
      heardSilent = resolveHeard;
    });
    const controller = new AbortController();
    const download = fetchOutbound(`http://icons.test:${port}/silent`, { ...request(rules), timeoutMs: 60_000, signal: controller.signal });
    await heard;
    const why = new Error('the import was cancelled');
    controller.abort(why);
    await rejectsWith(download, (e) => assert.equal(e, why));
  });
});
