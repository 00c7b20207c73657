import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { BOTS, solidPng, startSandbox, type Sandbox } from '@agentport/sandbox';
import { MessageList } from '../src/chat/schemas.js';
import { readConfig } from '../src/config.js';
import { signedFileUrl } from '../src/files/signed-url.js';
import { assertMatches, databaseTargets, describeOn, readChatStream, startTestPlatform, type TestPlatform } from './support.js';

const PNG = solidPng(64, 48, [200, 30, 30]);
const PNG_SAID = `image/png 64x48, ${PNG.length} bytes`;
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

for (const target of databaseTargets()) {
  describeOn(target, 'files in chat messages', () => {
    let sandbox: Sandbox;
    let p: TestPlatform;
    let images: Server;
    let imagesOrigin: string;
    let native: string;
    let coze: string;
    let user: { token: string; id: string };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      // A local image server, which the platform may fetch from only because this test trusts it.
      images = createServer((req, res) => {
        if (req.url === '/cat.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
      imagesOrigin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
      p = await startTestPlatform(
        target,
        {
          OPENAI_BASE_URL: sandbox.openaiBaseUrl,
          OPENAI_API_KEY: 'sk-sandbox',
          COZE_API_BASE: sandbox.cozeBaseUrl,
          COZE_API_TOKEN: sandbox.token,
          COZE_SPACE_ID: sandbox.spaceId,
          FILES_PER_MESSAGE: '3',
        },
        { imageRules: { trustedOrigins: [imagesOrigin] } },
      );
      native = (
        await (await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Eyes', model: 'sandbox-chat' } })).json()
      ).id;
      const imported = await p.api('POST', '/console/api/ai-agent/import/coze', {
        token: p.adminToken,
        body: { cozeBotId: BOTS.fileInspector.id },
      });
      coze = (await imported.json()).agent.id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
      await new Promise((resolve) => images.close(resolve));
    });

    const upload = async (bytes: Buffer, name: string, token = user.token) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)]), name);
      const res = await fetch(`${p.url}/api/ai-agent/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      assert.equal(res.status, 201);
      return (await res.json()) as { id: string; name: string; size: number; contentType: string; kind: string };
    };
    const filePart = (id: string) => ({ type: 'file', file: { file_id: id } });
    const chat = (agentId: string, content: unknown, extra: Record<string, unknown> = {}, token = user.token) =>
      fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ agentId, messages: [{ role: 'user', content }], stream: true, ...extra }),
      });
    const messagesOf = async (conversationId: string) => {
      const body = await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).json();
      assertMatches(MessageList, body);
      return body.items;
    };
    const content = (id: string) =>
      fetch(`${p.url}/api/ai-agent/files/${id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    const uploads = () => sandbox.requests.filter((r) => r.path === '/v1/files/upload').length;

    test('native: an uploaded image reaches the model as an image part, and the history shows it after a reload', async () => {
      const file = await upload(PNG, 'red.png');
      const res = await chat(native, [{ type: 'text', text: 'What is this?' }, filePart(file.id)]);
      assert.equal(res.status, 200);
      const conversationId = res.headers.get('x-conversation-id')!;
      const s = await readChatStream(res);
      assert.match(s.text, /You said: "What is this\?"/);
      assert.ok(s.text.includes(`Images: ${PNG_SAID}.`), s.text);
      const sent = sandbox.requests.filter((r) => r.path === '/openai/v1/chat/completions').at(-1)!.body as any;
      assert.equal(sent.messages.at(-1).content[1].image_url.url, `data:image/png;base64,${PNG.toString('base64')}`);

      const [question] = await messagesOf(conversationId);
      assert.deepEqual(question.attachments, [file]);
      assert.equal(question.content, 'What is this?');
    });

    test('a message may be files alone: it is titled by its first file', async () => {
      const file = await upload(PNG, 'just a picture.png');
      const res = await chat(native, [filePart(file.id)]);
      const conversationId = res.headers.get('x-conversation-id')!;
      assert.ok((await readChatStream(res)).text.includes(PNG_SAID));
      const conversation = await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}`, { token: user.token })).json();
      assert.equal(conversation.title, 'just a picture.png');
    });

    test('native: a file that is not an image is refused unless the agent accepts files, and then only text reaches it as text', async () => {
      const pdf = await upload(PDF, 'report.pdf');
      const notes = await upload(Buffer.from('Buy milk and bread.'), 'notes.txt');
      let res = await chat(native, [{ type: 'text', text: 'Read this' }, filePart(notes.id)]);
      assert.equal(res.status, 400);
      let body = await res.json();
      assert.equal(body.code, 'file_not_accepted');
      assert.match(body.message, /reads images only; notes\.txt is not an image/);

      await p.api('PATCH', `/console/api/ai-agent/${native}`, { token: p.adminToken, body: { acceptsFiles: true } });
      try {
        res = await chat(native, [{ type: 'text', text: 'Read this' }, filePart(pdf.id)]);
        assert.equal(res.status, 400);
        body = await res.json();
        assert.equal(body.code, 'file_not_accepted');
        assert.match(body.message, /reads images and text files; report\.pdf is neither/);

        const s = await readChatStream(await chat(native, [{ type: 'text', text: 'Read this' }, filePart(notes.id)]));
        assert.match(s.text, /You said: "Read thisThe file notes\.txt:\n\nBuy milk and bread\."/);
      } finally {
        await p.api('PATCH', `/console/api/ai-agent/${native}`, { token: p.adminToken, body: { acceptsFiles: false } });
      }
    });

    test('a file the user did not upload, or too many files, is refused before anything is stored', async () => {
      const other = await p.newUser();
      const theirs = await upload(PNG, 'theirs.png', other.token);
      let res = await chat(native, [{ type: 'text', text: 'Look' }, filePart(theirs.id)]);
      assert.equal(res.status, 400);
      const unknown = await res.json();
      assert.equal(unknown.code, 'unknown_file');
      assert.equal(unknown.message, 'A file attached to this message is no longer available. Remove it and attach it again.');

      const mine = await Promise.all([1, 2, 3, 4].map((n) => upload(PNG, `${n}.png`)));
      res = await chat(
        native,
        mine.map((f) => filePart(f.id)),
      );
      assert.equal(res.status, 400);
      const body = await res.json();
      assert.equal(body.code, 'too_many_files');
      assert.match(body.message, /at most 3 files/);

      res = await chat(native, [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }]);
      assert.equal(res.status, 400);
      assert.equal((await res.json()).code, 'invalid_content_part');
    });

    test("OpenAI content arrays: a data: URL image is stored as the user's file and reaches the agent", async () => {
      const url = `data:image/png;base64,${PNG.toString('base64')}`;
      const res = await chat(native, [
        { type: 'text', text: 'Inline' },
        { type: 'image_url', image_url: { url } },
      ]);
      const conversationId = res.headers.get('x-conversation-id')!;
      assert.ok((await readChatStream(res)).text.includes(PNG_SAID));
      const [question] = await messagesOf(conversationId);
      assert.deepEqual(
        question.attachments.map((a: any) => [a.name, a.contentType, a.size, a.kind]),
        [['image.png', 'image/png', PNG.length, 'image']],
      );
      assert.deepEqual(Buffer.from(await (await content(question.attachments[0].id)).arrayBuffer()), PNG);

      const notImage = await chat(native, [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PDF.toString('base64')}` } }]);
      assert.equal(notImage.status, 415);
      assert.equal((await notImage.json()).code, 'unsupported_file_type');
    });

    test('OpenAI content arrays: an http(s) image URL is downloaded under the outbound rules', async () => {
      const res = await chat(native, [
        { type: 'text', text: 'By URL' },
        { type: 'image_url', image_url: { url: `${imagesOrigin}/cat.png` } },
      ]);
      assert.equal(res.status, 200);
      const conversationId = res.headers.get('x-conversation-id')!;
      assert.ok((await readChatStream(res)).text.includes(PNG_SAID));
      const [question] = await messagesOf(conversationId);
      assert.equal(question.attachments[0].name, 'cat.png');

      // The same server by another name is not trusted: a private address is refused, in one sentence.
      const refused = await chat(native, [
        { type: 'image_url', image_url: { url: imagesOrigin.replace('127.0.0.1', 'localhost') + '/cat.png' } },
      ]);
      assert.equal(refused.status, 400);
      const body = await refused.json();
      assert.equal(body.code, 'image_unavailable');
      assert.doesNotMatch(body.message, /localhost|127\.0\.0\.1|private/);
    });

    test('Coze: a file is uploaded to Coze once and sent as an object_string item; the bot receives its bytes', async () => {
      const file = await upload(PNG, 'holiday.png');
      const before = uploads();
      const first = await chat(coze, [{ type: 'text', text: 'Describe it' }, filePart(file.id)]);
      const conversationId = first.headers.get('x-conversation-id')!;
      const s = await readChatStream(first);
      assert.equal(s.text, `Received 1 file: image holiday.png (${PNG_SAID}). Text: "Describe it".`);
      assert.equal(uploads(), before + 1);
      const sent = sandbox.requests.filter((r) => r.path === '/v3/chat').at(-1)!.body as any;
      const message = sent.additional_messages.at(-1);
      assert.equal(message.content_type, 'object_string');
      assert.deepEqual(
        JSON.parse(message.content).map((item: any) => item.type),
        ['text', 'image'],
      );

      // The same file again in the same conversation: Coze already has it.
      const again = await readChatStream(await chat(coze, [filePart(file.id)], { conversationId }));
      assert.equal(again.text, `Received 1 file: image holiday.png (${PNG_SAID}). Text: "".`);
      assert.equal(uploads(), before + 1, 'not uploaded a second time');
    });

    test('Coze: an upload Coze refuses ends the answer with a sentence naming the file', async () => {
      const file = await upload(PNG, '[refuse-upload] scan.png');
      const s = await readChatStream(await chat(coze, [{ type: 'text', text: 'Here' }, filePart(file.id)]));
      assert.equal(s.error.code, 'coze_upload_4000');
      assert.match(s.error.message, /^Coze did not take the file \[refuse-upload\] scan\.png\./);
    });

    test('deleting a conversation deletes its files', async () => {
      const file = await upload(PNG, 'gone.png');
      const res = await chat(native, [filePart(file.id)]);
      const conversationId = res.headers.get('x-conversation-id')!;
      await readChatStream(res);
      assert.equal((await content(file.id)).status, 200);
      assert.equal((await p.api('DELETE', `/api/ai-agent/conversations/${conversationId}`, { token: user.token })).status, 204);
      assert.equal((await content(file.id)).status, 404);
      // A file sent in a conversation stays out of any other.
      const other = await chat(native, [filePart(file.id)]);
      assert.equal(other.status, 400);
    });
  });
}

for (const target of databaseTargets()) {
  describeOn(target, 'images for native agents as signed links (NATIVE_IMAGE_URLS=signed)', () => {
    const SIGNING = { NATIVE_IMAGE_URLS: 'signed', PUBLIC_URL: 'https://agents.example.test', FILE_URL_SECRET: 'k'.repeat(40) };
    let sandbox: Sandbox;
    let p: TestPlatform;
    let native: string;
    let user: { token: string; id: string };

    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, { OPENAI_BASE_URL: sandbox.openaiBaseUrl, OPENAI_API_KEY: 'sk-sandbox', ...SIGNING });
      native = (await (await p.api('POST', '/console/api/ai-agent', { token: p.adminToken, body: { name: 'Eyes', model: 'm' } })).json())
        .id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    test('the model gets a link to this server that works without a token, for this file only and not for long', async () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(PNG)]), 'red.png');
      const file = await (
        await fetch(`${p.url}/api/ai-agent/files`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form })
      ).json();
      const res = await fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({
          agentId: native,
          messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: file.id } }] }],
          stream: true,
        }),
      });
      await readChatStream(res);
      const sent = sandbox.requests.filter((r) => r.path === '/openai/v1/chat/completions').at(-1)!.body as any;
      const link = new URL(sent.messages.at(-1).content[0].image_url.url);
      assert.equal(link.origin, SIGNING.PUBLIC_URL);
      assert.equal(link.pathname, `/api/ai-agent/files/${file.id}/content`);

      const local = (url: URL) => fetch(`${p.url}${url.pathname}${url.search}`);
      const got = await local(link);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);

      const altered = new URL(link);
      altered.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 3600));
      assert.equal((await local(altered)).status, 404);
      const expired = new URL(
        signedFileUrl({ publicUrl: SIGNING.PUBLIC_URL, secret: SIGNING.FILE_URL_SECRET, ttlSeconds: 600 }, file.id, Date.now() - 3_600_000),
      );
      assert.equal((await local(expired)).status, 404);
      const otherSecret = new URL(signedFileUrl({ publicUrl: SIGNING.PUBLIC_URL, secret: 'x'.repeat(40), ttlSeconds: 600 }, file.id));
      assert.equal((await local(otherSecret)).status, 404);
    });

    test('signed links need PUBLIC_URL and a long FILE_URL_SECRET at start-up', () => {
      assert.throws(() => readConfig({ ...SIGNING, PUBLIC_URL: '' }), /needs PUBLIC_URL/);
      assert.throws(() => readConfig({ ...SIGNING, FILE_URL_SECRET: 'short' }), /FILE_URL_SECRET, at least 32 characters/);
    });
  });
}

for (const target of databaseTargets()) {
  describeOn(target, 'Coze file ids belong to one Coze account', () => {
    test('after COZE_API_TOKEN and COZE_API_BASE change, a file sent before is uploaded to the new account, not named by the old id', async () => {
      const first = await startSandbox({ quiet: true });
      const second = await startSandbox({ quiet: true, token: 'pat_another_account' });
      const dataDir = mkdtempSync(path.join(tmpdir(), 'agentport-coze-account-'));
      const database = await target.url();
      const on = (sandbox: Sandbox) =>
        startTestPlatform(target, {
          DATA_DIR: dataDir,
          ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
          COZE_API_BASE: sandbox.cozeBaseUrl,
          COZE_API_TOKEN: sandbox.token,
          COZE_SPACE_ID: sandbox.spaceId,
        });
      const uploadsTo = (sandbox: Sandbox) => sandbox.requests.filter((r) => r.path === '/v1/files/upload').length;
      try {
        let p = await on(first);
        const user = await p.newUser();
        const imported = await p.api('POST', '/console/api/ai-agent/import/coze', {
          token: p.adminToken,
          body: { cozeBotId: BOTS.fileInspector.id },
        });
        const agentId = (await imported.json()).agent.id;
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(PNG)]), 'holiday.png');
        const uploaded = await fetch(`${p.url}/api/ai-agent/files`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}` },
          body: form,
        });
        const file = (await uploaded.json()) as { id: string };
        const chat = (extra: Record<string, unknown> = {}) =>
          fetch(`${p.url}/api/ai-agent/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
            body: JSON.stringify({
              agentId,
              messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: file.id } }] }],
              stream: true,
              ...extra,
            }),
          });
        const res = await chat();
        const conversationId = res.headers.get('x-conversation-id')!;
        assert.equal((await readChatStream(res)).text, `Received 1 file: image holiday.png (${PNG_SAID}). Text: "".`);
        assert.equal(uploadsTo(first), 1);
        await p.close();

        // The operator moves to another Coze account: same database, same file, same conversation.
        p = await on(second);
        try {
          const again = await readChatStream(await chat({ conversationId }));
          assert.equal(again.text, `Received 1 file: image holiday.png (${PNG_SAID}). Text: "".`);
          assert.equal(uploadsTo(second), 1, 'uploaded to the new account');
          assert.equal(uploadsTo(first), 1);
        } finally {
          await p.close();
        }
      } finally {
        await first.close();
        await second.close();
        await database.drop();
      }
    });
  });
}

for (const target of databaseTargets()) {
  describeOn(target, 'Coze file uploads have a longer time allowance', () => {
    // COZE_CONNECT_TIMEOUT_MS=500: an ordinary call waits 500 ms for Coze's headers, an upload of
    // this small file 500 ms plus a second (files/upload allows a second per 100 KB begun).
    let sandbox: Sandbox;
    let p: TestPlatform;
    let coze: string;
    let user: { token: string; id: string };
    before(async () => {
      sandbox = await startSandbox({ quiet: true });
      p = await startTestPlatform(target, {
        COZE_API_BASE: sandbox.cozeBaseUrl,
        COZE_API_TOKEN: sandbox.token,
        COZE_SPACE_ID: sandbox.spaceId,
        COZE_CONNECT_TIMEOUT_MS: '500',
        COZE_MAX_RETRIES: '0',
      });
      const imported = await p.api('POST', '/console/api/ai-agent/import/coze', {
        token: p.adminToken,
        body: { cozeBotId: BOTS.fileInspector.id },
      });
      coze = (await imported.json()).agent.id;
      user = await p.newUser();
    });
    after(async () => {
      await p.close();
      await sandbox.close();
    });

    const send = async (name: string) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(PNG)]), name);
      const uploaded = await fetch(`${p.url}/api/ai-agent/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}` },
        body: form,
      });
      const file = (await uploaded.json()) as { id: string };
      const res = await fetch(`${p.url}/api/ai-agent/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({
          agentId: coze,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Look' },
                { type: 'file', file: { file_id: file.id } },
              ],
            },
          ],
          stream: true,
        }),
      });
      return { conversationId: res.headers.get('x-conversation-id')!, stream: await readChatStream(res) };
    };

    test('an upload slower than an ordinary call, within the upload allowance, goes through', async () => {
      const { stream } = await send('slow [slow-upload:1000].png');
      assert.equal(stream.error, undefined);
      assert.equal(stream.text, `Received 1 file: image slow [slow-upload:1000].png (${PNG_SAID}). Text: "Look".`);
    });

    test('an upload beyond the allowance ends the answer with a sentence naming the file; the message is kept', async () => {
      const { conversationId, stream } = await send('stuck [slow-upload:3000].png');
      assert.equal(stream.error.code, 'coze_upload_failed');
      assert.match(stream.error.message, /^Coze did not take the file stuck \[slow-upload:3000\]\.png\. /);
      const body = await (await p.api('GET', `/api/ai-agent/conversations/${conversationId}/messages`, { token: user.token })).json();
      const [question, answer] = body.items;
      assert.equal(question.content, 'Look');
      assert.deepEqual(
        question.attachments.map((a: any) => a.name),
        ['stuck [slow-upload:3000].png'],
      );
      assert.equal(answer.status, 'failed');
      assert.match(answer.error.message, /^Coze did not take the file/);
    });
  });
}
