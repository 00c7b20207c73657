import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { solidPng } from '@agentport/sandbox';
import { parse as parseContentDisposition } from 'content-disposition';
import { eq } from 'drizzle-orm';
import { files, storedFiles } from '../src/db/schema.js';
import { sweepUnattachedFiles } from '../src/files/files.js';
import { Attachment } from '../src/files/schemas.js';
import { localStorage } from '../src/storage/storage.js';
import { assertMatches, databaseTargets, describeOn, startTestPlatform, type TestPlatform } from './support.js';

const PNG = solidPng(64, 48, [200, 30, 30]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

test('local storage closes an uploads folder made before its files were private', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentport-storage-'));
  try {
    mkdirSync(path.join(dataDir, 'uploads'), { mode: 0o755 });
    localStorage(dataDir);
    assert.equal(statSync(path.join(dataDir, 'uploads')).mode & 0o777, 0o700);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

for (const target of databaseTargets()) {
  describeOn(target, 'files sent to chat', () => {
    let p: TestPlatform;
    let user: { token: string; id: string };

    before(async () => {
      p = await startTestPlatform(target, { FILE_MAX_BYTES: '20000', FILES_PER_MESSAGE: '2' });
      user = await p.newUser();
    });
    after(() => p.close());

    const upload = (bytes: Buffer, name: string, { token = user.token, field = 'file', type = 'application/octet-stream' } = {}) => {
      const form = new FormData();
      form.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
      return fetch(`${p.url}/api/ai-agent/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    };
    const content = (id: string, token = user.token) =>
      fetch(`${p.url}/api/ai-agent/files/${id}/content`, { headers: { authorization: `Bearer ${token}` } });

    test('an image is stored, described by its bytes, and served back to its owner as it was', async () => {
      const res = await upload(PNG, 'holiday photo.png', { type: 'image/png' });
      assert.equal(res.status, 201);
      const file = await res.json();
      assertMatches(Attachment, file);
      assert.deepEqual(
        { ...file, id: undefined },
        { id: undefined, name: 'holiday photo.png', size: PNG.length, contentType: 'image/png', kind: 'image' },
      );

      const got = await content(file.id);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'image/png');
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
      assert.match(got.headers.get('content-disposition')!, /^inline; filename="holiday photo\.png"/);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);
    });

    test("the server's limits are published to signed-in users, as configured", async () => {
      const res = await fetch(`${p.url}/api/ai-agent/files/limits`, { headers: { authorization: `Bearer ${user.token}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        perMessage: 2,
        maxBytes: 20000,
        types: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'],
      });
      assert.equal((await fetch(`${p.url}/api/ai-agent/files/limits`)).status, 401);
    });

    test('the type comes from the bytes, not the name or what the client claims', async () => {
      const png = await (await upload(PNG, 'notes.txt', { type: 'text/plain' })).json();
      assert.equal(png.contentType, 'image/png');
      assert.equal(png.kind, 'image');
      const pdf = await (await upload(PDF, 'scan.png', { type: 'image/png' })).json();
      assert.deepEqual([pdf.contentType, pdf.kind], ['application/pdf', 'file']);

      // Binary that is none of the allowed types, whatever its name.
      const exe = await upload(Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0xff, 0xfe]), 'cat.png', { type: 'image/png' });
      assert.equal(exe.status, 415);
      const body = await exe.json();
      assert.equal(body.code, 'unsupported_file_type');
      assert.match(body.message, /PNG, JPEG, GIF, WebP, PDF or plain text/);
    });

    test('active content is never served as itself: an SVG or HTML file is plain text, downloaded', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      const file = await (await upload(svg, 'logo.svg', { type: 'image/svg+xml' })).json();
      assert.deepEqual([file.contentType, file.kind], ['text/plain', 'file']);
      const got = await content(file.id);
      assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(got.headers.get('content-disposition')!, /^attachment; filename="?logo\.svg/);
      assert.match(got.headers.get('content-security-policy')!, /default-src 'none'/);
    });

    test('a file over FILE_MAX_BYTES is 413, an empty or missing one 400, each with a sentence', async () => {
      const big = await upload(Buffer.concat([PNG, Buffer.alloc(20_001)]), 'big.png');
      assert.equal(big.status, 413);
      const bigBody = await big.json();
      assert.equal(bigBody.code, 'file_too_large');
      assert.match(bigBody.message, /^The file is too large: files of up to 19\.5 KB can be sent\.$/);

      const empty = await upload(Buffer.alloc(0), 'empty.txt');
      assert.equal(empty.status, 400);
      assert.equal((await empty.json()).code, 'no_file');
      const wrongField = await upload(PNG, 'a.png', { field: 'image' });
      assert.equal(wrongField.status, 400);
      assert.equal((await wrongField.json()).code, 'no_file');
      const json = await p.api('POST', '/api/ai-agent/files', { token: user.token, body: { file: 'x' } });
      assert.equal(json.status, 400);
      assert.equal((await json.json()).code, 'no_file');
    });

    test('names are cleaned: no folders, no control characters', async () => {
      const file = await (await upload(Buffer.from('hello'), '..\\..\\etc/pass\u0007wd\u202e.txt')).json();
      assert.equal(file.name, 'passwd.txt');
    });

    test('a name with quotes, semicolons and non-ASCII comes back exactly, in the listing and the download', async () => {
      // Browsers (and fetch's FormData) send " in a multipart file name as %22, line breaks as %0A/%0D.
      const name = 'say "hi"; résumé ✓ 50%.txt';
      const file = await (await upload(Buffer.from('hello'), name)).json();
      assert.equal(file.name, name);
      const got = await content(file.id);
      assert.equal(parseContentDisposition(got.headers.get('content-disposition')!).parameters.filename, name);
    });

    test("only the owner reads a file: anyone else's, an unknown id or a malformed one is 404; no token is 401", async () => {
      const file = await (await upload(PNG, 'mine.png')).json();
      const other = await p.newUser();
      for (const res of [await content(file.id, other.token), await content(randomUUID()), await content('not-an-id')]) {
        assert.equal(res.status, 404);
        assert.equal((await res.json()).code, 'not_found');
      }
      assert.equal((await fetch(`${p.url}/api/ai-agent/files/${file.id}/content`)).status, 401);
      assert.equal((await upload(PNG, 'x.png', { token: 'nope' })).status, 401);
      // /uploads serves public images only: a chat file is not there under any guessable key.
      assert.equal((await fetch(`${p.url}/uploads/chat-files/${file.id}`)).status, 404);
    });

    test("on the server's disk, a file is readable by the server's own user only", async () => {
      const file = await (await upload(PDF, 'private.pdf')).json();
      const [row] = await p.database.db.select({ key: files.storageKey }).from(files).where(eq(files.id, file.id));
      const stored = path.join(p.config.dataDir, 'uploads', row!.key);
      assert.equal(statSync(stored).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(stored)).mode & 0o777, 0o700);
    });

    test('a file sent with no message is removed once FILE_UNATTACHED_HOURS have passed', async () => {
      const file = await (await upload(PNG, 'forgotten.png')).json();
      assert.equal(await sweepUnattachedFiles(p.database.db, p.storage, 1), 0, 'kept within the hours');
      assert.equal((await content(file.id)).status, 200);
      assert.ok((await sweepUnattachedFiles(p.database.db, p.storage, 0)) >= 1);
      assert.equal((await content(file.id)).status, 404);
    });
  });
}

const postgres = databaseTargets().find((target) => target.name === 'postgres')!;
describeOn(postgres, 'files in chat with STORAGE_DRIVER=database', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform(postgres, { STORAGE_DRIVER: 'database' });
  });
  after(() => p.close());

  test('the bytes live in the database, are served from there, and leave with their file', async () => {
    const user = await p.newUser();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(PNG)]), 'in-db.png');
    const file = await (
      await fetch(`${p.url}/api/ai-agent/files`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form })
    ).json();
    const [row] = await p.database.db.select().from(files).where(eq(files.id, file.id));
    const [stored] = await p.database.db.select().from(storedFiles).where(eq(storedFiles.key, row!.storageKey));
    assert.deepEqual(stored!.bytes, PNG);
    const got = await fetch(`${p.url}/api/ai-agent/files/${file.id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);

    await sweepUnattachedFiles(p.database.db, p.storage, 0);
    assert.equal((await p.database.db.select().from(storedFiles).where(eq(storedFiles.key, row!.storageKey))).length, 0);
  });
});
