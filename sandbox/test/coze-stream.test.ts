import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BOTS, REALISTIC_STREAM, renderEvent, SPLIT_BYTES_ANSWER, startSandbox, type Sandbox } from '../src/index.js';
import { chatJson, messageJson, NO_ERROR, ZERO_USAGE, type MessageFields } from '../src/coze/objects.js';
import { answerText, chat, cozeFetch, events, readUntil, userMessage } from './helpers.js';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({ quiet: true });
});
after(() => sandbox.close());

describe('Coze stream wire format', () => {
  test("the sandbox renders the wire facts' realistic stream byte for byte", () => {
    const chatRecord = {
      id: '7441982054331547711',
      conversationId: '7441951200360120346',
      botId: '7441780437695086628',
      sectionId: '7441951200360120346',
      createdAt: 1732721480,
      lastError: NO_ERROR,
      usage: ZERO_USAGE,
    };
    const message = (id: string, type: MessageFields['type'], content: string, createdAt?: number) =>
      messageJson({
        id,
        type,
        content,
        conversationId: chatRecord.conversationId,
        botId: chatRecord.botId,
        chatId: chatRecord.id,
        sectionId: chatRecord.sectionId,
        ...(createdAt ? { createdAt } : {}),
      });
    const verbose =
      '{"msg_type":"generate_answer_finish","data":"{\\"finish_reason\\":0,\\"FinData\\":\\"\\"}","from_module":null,"from_unit":null}';
    const rendered = [
      renderEvent('conversation.chat.created', chatJson({ ...chatRecord, status: 'created' })),
      renderEvent('conversation.chat.in_progress', chatJson({ ...chatRecord, status: 'in_progress' })),
      renderEvent('conversation.message.delta', message('7441982054331629631', 'answer', 'Today is ')),
      renderEvent('conversation.message.delta', message('7441982054331629631', 'answer', 'Wednesday.')),
      renderEvent('conversation.message.completed', message('7441982054331629631', 'answer', 'Today is Wednesday.', 1732721481)),
      renderEvent('conversation.message.completed', message('7441982078243143699', 'verbose', verbose, 1732721482)),
      renderEvent('conversation.message.completed', message('7441982078243160083', 'follow_up', 'Is Wednesday special?', 1732721482)),
      renderEvent(
        'conversation.chat.completed',
        chatJson({
          ...chatRecord,
          status: 'completed',
          completedAt: 1732721483,
          usage: { token_count: 62, output_count: 3, input_count: 59 },
        }),
      ),
      renderEvent('done', '[DONE]'),
    ].join('');
    assert.equal(rendered, REALISTIC_STREAM);
  });

  test('an echo chat streams exactly event:<name>\\ndata:<json>\\n\\n and ends with data:"[DONE]"', async () => {
    const res = await chat(sandbox, { bot_id: BOTS.echo.id, user_id: 'wire-user', additional_messages: [userMessage('hi')] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.match(res.headers.get('x-tt-logid') ?? '', /^\d{14}[0-9A-F]{18}$/);
    const text = await res.text();

    const [chatId, answerId, verboseId, followUp1, followUp2] = [...new Set([...text.matchAll(/"id":"(\d+)"/g)].map((m) => m[1]))];
    const conversationId = /"conversation_id":"(\d+)"/.exec(text)![1];
    const t = Number(/"created_at":(\d+)/.exec(text)![1]);
    const completed = events(text).find((e) => e.event === 'conversation.chat.completed')!;
    const usage = (JSON.parse(completed.data) as { usage: { token_count: number; output_count: number; input_count: number } }).usage;
    assert.equal(usage.token_count, usage.input_count + usage.output_count);
    assert.ok(usage.output_count > 0);

    const bot = BOTS.echo.id;
    const chatHead = `"id":"${chatId}","conversation_id":"${conversationId}","bot_id":"${bot}","created_at":${t}`;
    const zero = '"last_error":{"code":0,"msg":""}';
    const section = `"section_id":"${conversationId}"`;
    const msg = (id: string | undefined, type: string, content: string) =>
      `"id":"${id}","conversation_id":"${conversationId}","bot_id":"${bot}","role":"assistant","type":"${type}","content":${JSON.stringify(content)},"content_type":"text","chat_id":"${chatId}",${section}`;
    const verbose =
      '{"msg_type":"generate_answer_finish","data":"{\\"finish_reason\\":0,\\"FinData\\":\\"\\"}","from_module":null,"from_unit":null}';
    const expected =
      `event:conversation.chat.created\ndata:{${chatHead},${zero},"status":"created","usage":{"token_count":0,"output_count":0,"input_count":0},${section}}\n\n` +
      `event:conversation.chat.in_progress\ndata:{${chatHead},${zero},"status":"in_progress","usage":{"token_count":0,"output_count":0,"input_count":0},${section}}\n\n` +
      `event:conversation.message.delta\ndata:{${msg(answerId, 'answer', 'Turn 1: ')}}\n\n` +
      `event:conversation.message.delta\ndata:{${msg(answerId, 'answer', 'you said ')}}\n\n` +
      `event:conversation.message.delta\ndata:{${msg(answerId, 'answer', '"hi"')}}\n\n` +
      `event:conversation.message.completed\ndata:{${msg(answerId, 'answer', 'Turn 1: you said "hi"')},"created_at":${t}}\n\n` +
      `event:conversation.message.completed\ndata:{${msg(verboseId, 'verbose', verbose)},"created_at":${t}}\n\n` +
      `event:conversation.message.completed\ndata:{${msg(followUp1, 'follow_up', 'Say "hi" again')},"created_at":${t}}\n\n` +
      `event:conversation.message.completed\ndata:{${msg(followUp2, 'follow_up', 'What did I say first?')},"created_at":${t}}\n\n` +
      `event:conversation.chat.completed\ndata:{${chatHead},"completed_at":${t},${zero},"status":"completed","usage":${JSON.stringify(usage)},${section}}\n\n` +
      'event:done\ndata:"[DONE]"\n\n';
    assert.equal(text, expected);
  });

  test('an unpublished bot answers JSON 4015 with HTTP 200 before any stream', async () => {
    const res = await chat(sandbox, { bot_id: BOTS.unpublished.id, user_id: 'u' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { code: number; msg: string; detail: { logid: string } };
    assert.equal(body.code, 4015);
    assert.equal(body.detail.logid, res.headers.get('x-tt-logid'));
  });

  test('splitBytes arrives in many tiny writes and still decodes to the CJK and emoji answer', async () => {
    const res = await chat(sandbox, { bot_id: BOTS.splitBytes.id, user_id: 'u', additional_messages: [userMessage('hello')] });
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    assert.ok(chunks.length > 100, `expected many small chunks, got ${chunks.length}`);
    assert.ok(chunks.some((c) => c.length <= 3));
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    assert.equal(answerText(text), SPLIT_BYTES_ANSWER);
    assert.ok(text.endsWith('event:done\ndata:"[DONE]"\n\n'));
  });

  test('failMidStream ends with chat.failed carrying last_error and no done', async () => {
    const text = await (await chat(sandbox, { bot_id: BOTS.failMidStream.id, user_id: 'u' })).text();
    const last = events(text).at(-1)!;
    assert.equal(last.event, 'conversation.chat.failed');
    assert.deepEqual((JSON.parse(last.data) as { last_error: unknown }).last_error, { code: 5000, msg: 'event interval error' });
    assert.ok(!text.includes('event:done'));
  });

  test('dropConnection breaks the stream after some deltas', async () => {
    const res = await chat(sandbox, { bot_id: BOTS.dropConnection.id, user_id: 'u' });
    await assert.rejects(res.text());
  });
});

describe('Coze conversations', () => {
  const conversationOf = (text: string): string => (JSON.parse(events(text)[0]!.data) as { conversation_id: string }).conversation_id;

  test('a conversation keeps its turns: turn 2 says "Turn 2" and quotes turn 1', async () => {
    const first = await (
      await chat(sandbox, { bot_id: BOTS.echo.id, user_id: 'alice', additional_messages: [userMessage('first')] })
    ).text();
    const conversationId = conversationOf(first);
    const second = await (
      await chat(
        sandbox,
        { bot_id: BOTS.echo.id, user_id: 'alice', additional_messages: [userMessage('second')], custom_variables: { nickname: 'Al' } },
        conversationId,
      )
    ).text();
    assert.equal(conversationOf(second), conversationId);
    assert.equal(answerText(second), 'Turn 2: you said "second" (previous: "first") [vars: nickname=Al]');

    const intruder = await chat(
      sandbox,
      { bot_id: BOTS.echo.id, user_id: 'mallory', additional_messages: [userMessage('x')] },
      conversationId,
    );
    assert.equal(((await intruder.json()) as { code: number }).code, 4101);
  });

  test('an unknown conversation id answers JSON 4200 before streaming', async () => {
    const res = await chat(sandbox, { bot_id: BOTS.echo.id, user_id: 'u', additional_messages: [userMessage('x')] }, '7000000000000000000');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await res.json()) as { code: number }).code, 4200);
  });

  test('cancel stops a running chat, a second chat meanwhile gets 4016, and the canceled turn is not kept', async () => {
    const created = (await (await cozeFetch(sandbox, '/v1/conversation/create', { body: { bot_id: BOTS.slow.id } })).json()) as {
      data: { id: string };
    };
    const conversationId = created.data.id;
    const slow = await chat(
      sandbox,
      { bot_id: BOTS.slow.id, user_id: 'bob', additional_messages: [userMessage('take your time')] },
      conversationId,
    );
    const { text, rest } = await readUntil(slow, (t) => t.includes('conversation.message.delta'));
    const chatId = (JSON.parse(events(text)[0]!.data) as { id: string }).id;

    const busy = await chat(
      sandbox,
      { bot_id: BOTS.echo.id, user_id: 'bob', additional_messages: [userMessage('me too')] },
      conversationId,
    );
    assert.equal(((await busy.json()) as { code: number }).code, 4016);

    const canceled = (await (
      await cozeFetch(sandbox, '/v3/chat/cancel', { body: { conversation_id: conversationId, chat_id: chatId } })
    ).json()) as { code: number; data: { status: string } };
    assert.equal(canceled.code, 0);
    assert.equal(canceled.data.status, 'canceled');
    await sandbox.waitForRequest((r) => r.path === '/v3/chat/cancel');
    const tail = await rest();
    assert.ok(!(text + tail).includes('conversation.chat.completed'));
    assert.ok(!(text + tail).includes('event:done'));

    const again = (await (
      await cozeFetch(sandbox, '/v3/chat/cancel', { body: { conversation_id: conversationId, chat_id: chatId } })
    ).json()) as { code: number };
    assert.equal(again.code, 4104);

    const next = await (
      await chat(sandbox, { bot_id: BOTS.echo.id, user_id: 'bob', additional_messages: [userMessage('after cancel')] }, conversationId)
    ).text();
    assert.equal(answerText(next), 'Turn 1: you said "after cancel"');
  });
});
