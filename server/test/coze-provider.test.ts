// The Coze provider against a local stand-in for Coze whose events the test releases one by one:
// what a Stop does to the chat in Coze when it comes before Coze has told the chat's id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cozeProvider } from '../src/chat/providers/coze.js';
import type { ChatInput, ProviderEvent } from '../src/chat/providers/types.js';
import { CozeClient } from '../src/coze/openapi/client.js';
import { sendJson, sse, startLocalServer, testConfig } from './coze-client-support.js';
import { eventually } from './support.js';

test("a Stop before Coze told the chat's id ends the answer at once, and cancels the chat in Coze once the id comes", async () => {
  let releaseCreated!: () => void;
  const created = new Promise<void>((resolve) => (releaseCreated = resolve));
  const server = await startLocalServer(async (req, res) => {
    if (req.url === '/v3/chat/cancel')
      return sendJson(res, 200, { code: 0, msg: '', data: { id: 'c9', conversation_id: '7009', status: 'canceled' } });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    await created; // Coze is slow to create the chat: the Stop comes first
    res.write(sse('conversation.chat.created', { id: 'c9', conversation_id: '7009', bot_id: 'b1', status: 'created' }));
  });
  const client = new CozeClient(testConfig(server.url));
  const controller = new AbortController();
  const events: ProviderEvent[] = [];
  const input = {
    agent: { thirdPartyIntegration: { coze: { botId: 'b1' } } },
    conversation: { id: 'conversation-1', providerConversationId: null },
    user: { id: 'user-1', role: 'user' },
    loadHistory: async () => [],
    message: 'hello',
    attachments: [],
    signal: controller.signal,
  } as unknown as ChatInput;
  const cancels = () => server.requests.filter((r) => r.url === '/v3/chat/cancel').map((r) => JSON.parse(r.body) as unknown);
  try {
    let answered = false;
    void cozeProvider(client)
      .answer(input, (event) => void events.push(event))
      .then(() => (answered = true));
    await eventually(async () => server.requests.some((r) => r.url === '/v3/chat'));
    controller.abort('stop');
    await eventually(async () => answered, 2_000); // without waiting for Coze
    assert.deepEqual(cancels(), []);

    releaseCreated();
    assert.deepEqual(await eventually(async () => cancels()[0]), { conversation_id: '7009', chat_id: 'c9' });
    let streamClosed = false;
    void server.closed[0]!.then(() => (streamClosed = true));
    await eventually(async () => streamClosed); // and the stream to Coze is closed
    assert.deepEqual(events, [], 'nothing of the stopped chat reaches the answer');
  } finally {
    client.agent.destroy();
    await server.close();
  }
});
