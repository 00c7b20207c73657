// The floor the bench's memory figures are read against (bench.ts, relayFloor): the least a Node process can
// do to relay a Coze chat as OpenAI chunks. One request in, one /v3/chat stream out on a keep-alive
// agent, each message delta re-encoded as a chat.completion.chunk. No auth, no database, no checks.
// Usage: node minimal-relay.mjs <cozeBaseUrl> <token> <botId>; prints {"port":…} once listening.
import http from 'node:http';

const [, , cozeBaseUrl, token, botId] = process.argv;
const chatUrl = new URL('/v3/chat', cozeBaseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const server = http.createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const { text, variables } = JSON.parse(body);
    const upstream = http.request(
      chatUrl,
      { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (events) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        events.setEncoding('utf8');
        let pending = '';
        let event = '';
        events.on('data', (chunk) => {
          pending += chunk;
          for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
            const line = pending.slice(0, end).replace(/\r$/, '');
            pending = pending.slice(end + 1);
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:') && event === 'conversation.message.delta') {
              const { content } = JSON.parse(line.slice(5));
              response.write(`data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":${JSON.stringify({ content })}}]}\n\n`);
            }
          }
        });
        events.on('end', () => response.end('data: [DONE]\n\n'));
      },
    );
    response.on('close', () => upstream.destroy());
    upstream.end(
      JSON.stringify({
        bot_id: botId,
        user_id: 'relay-floor',
        stream: true,
        custom_variables: variables,
        additional_messages: [{ role: 'user', type: 'question', content: text, content_type: 'text' }],
      }),
    );
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
