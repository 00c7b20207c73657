import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { BOTS, startSandbox, type Sandbox } from '../src/index.js';
import { cozeFetch } from './helpers.js';

const APP = { appId: '1170000000001', keyId: 'sandbox-key-1' };
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({
    quiet: true,
    oauthApp: { ...APP, publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
  });
});
after(() => sandbox.close());

const signJwt = (jti: string, kid = APP.keyId) =>
  new SignJWT({ session_name: 'end-user-1' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .setIssuer(APP.appId)
    .setAudience('api.coze.cn')
    .setIssuedAt()
    .setExpirationTime('10m')
    .setJti(jti)
    .sign(keys.privateKey);

const exchange = (jwt: string, duration?: number) =>
  fetch(`${sandbox.cozeBaseUrl}/api/permission/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ...(duration ? { duration_seconds: duration } : {}),
    }),
  });

describe('Coze auth', () => {
  test('a bad token answers 4100 "authentication is invalid" with a logid', async () => {
    const res = await cozeFetch(sandbox, `/v1/bots?workspace_id=${sandbox.spaceId}`, { token: 'pat_wrong' });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { code: number; msg: string; detail: { logid: string } };
    assert.equal(body.code, 4100);
    assert.equal(body.msg, 'authentication is invalid');
    assert.ok(body.detail.logid);
  });

  test('a signed JWT exchanges once for a czs_ token with an absolute expires_in; reusing its jti fails', async () => {
    const jwt = await signJwt(randomUUID());
    const res = await exchange(jwt, 600);
    assert.equal(res.status, 200);
    const token = (await res.json()) as { access_token: string; expires_in: number; token_type: string };
    assert.match(token.access_token, /^czs_/);
    assert.ok(Math.abs(token.expires_in - (Date.now() / 1000 + 600)) < 5, 'expires_in is now + duration, in unix seconds');
    const list = await cozeFetch(sandbox, `/v1/bots?workspace_id=${sandbox.spaceId}`, { token: token.access_token });
    assert.equal(((await list.json()) as { code: number }).code, 0);

    const reused = await exchange(jwt);
    assert.equal(reused.status, 401);
    assert.equal(((await reused.json()) as { error_code: string }).error_code, 'invalid_grant');

    const wrongKid = await exchange(await signJwt(randomUUID(), 'other-key'));
    assert.equal(wrongKid.status, 401);
    assert.ok(((await wrongKid.json()) as { error_message: string }).error_message);
  });
});

describe('Coze bots', () => {
  test('both lists page through the API-published bots only, each in its own shape', async () => {
    const old = (await (
      await cozeFetch(sandbox, `/v1/space/published_bots_list?space_id=${sandbox.spaceId}&page_index=2&page_size=5`)
    ).json()) as {
      data: { space_bots: { bot_id: string; bot_name: string; publish_time: string }[]; total: number };
    };
    assert.equal(old.data.space_bots.length, 5);
    assert.equal(typeof old.data.space_bots[0]!.publish_time, 'string');
    const all = (await (
      await cozeFetch(
        sandbox,
        `/v1/bots?workspace_id=${sandbox.spaceId}&publish_status=published_online&connector_id=1024&page_num=1&page_size=100`,
      )
    ).json()) as {
      data: { items: { id: string; published_at: number; is_published: boolean }[]; total: number };
    };
    assert.equal(all.data.total, old.data.total);
    assert.equal(all.data.items.length, all.data.total);
    assert.equal(typeof all.data.items[0]!.published_at, 'number');
    const ids = all.data.items.map((b) => b.id);
    assert.ok(ids.includes(BOTS.hugeIcon.id));
    assert.ok(!ids.includes(BOTS.unpublished.id));
    assert.deepEqual(
      old.data.space_bots.map((b) => b.bot_id),
      ids.slice(5, 10),
    );

    const unknownSpace = (await (await cozeFetch(sandbox, '/v1/bots?workspace_id=1')).json()) as { code: number };
    assert.equal(unknownSpace.code, 4200);
  });

  test('bot detail has prompt, onboarding and variables; an unknown bot is 4200', async () => {
    const res = (await (await cozeFetch(sandbox, `/v1/bots/${BOTS.travel.id}`)).json()) as {
      data: { bot_id: string; onboarding_info: { prologue: string; suggested_questions: string[] }; variables: { keyword: string }[] };
    };
    assert.equal(res.data.bot_id, BOTS.travel.id);
    assert.ok(res.data.onboarding_info.prologue);
    assert.ok(res.data.onboarding_info.suggested_questions.length > 0);
    assert.deepEqual(
      res.data.variables.map((v) => v.keyword),
      ['home_city', 'travel_style'],
    );
    const old = (await (await cozeFetch(sandbox, `/v1/bot/get_online_info?bot_id=${BOTS.echo.id}`)).json()) as { data: { name: string } };
    assert.equal(old.data.name, BOTS.echo.name);
    const missing = (await (await cozeFetch(sandbox, '/v1/bots/7499999999999999999')).json()) as { code: number; msg: string };
    assert.equal(missing.code, 4200);
    assert.equal(missing.msg, 'Requested resource bot_id=7499999999999999999 does not exist');
  });

  test('icon URLs are signed and expire; the special icon bots misbehave as documented', async () => {
    const listed = (await (await cozeFetch(sandbox, `/v1/bots/${BOTS.echo.id}`)).json()) as { data: { icon_url: string } };
    const icon = await fetch(listed.data.icon_url);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await icon.arrayBuffer()).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    const tampered = listed.data.icon_url.replace(/x-signature=[^&]+/, 'x-signature=forged');
    assert.equal((await fetch(tampered)).status, 403);
    const expired = sandbox.iconUrl(BOTS.echo.id, Math.floor(Date.now() / 1000) - 1);
    assert.equal((await fetch(expired)).status, 403);

    assert.equal((await fetch(sandbox.iconUrl(BOTS.brokenIcon.id))).status, 500);
    const html = await fetch(sandbox.iconUrl(BOTS.htmlIcon.id));
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    const huge = await fetch(sandbox.iconUrl(BOTS.hugeIcon.id));
    assert.equal(huge.headers.get('content-type'), 'image/png');
    assert.ok((await huge.arrayBuffer()).byteLength > 3 * 1024 * 1024);
  });
});
