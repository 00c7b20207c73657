// The realistic stream of the wire facts (docs/coze-openapi.md §4.7), its elisions filled in
// to complete JSON. Client tests replay it; a sandbox test proves the sandbox renders the same bytes.

const CHAT = '"id":"7441982054331547711","conversation_id":"7441951200360120346","bot_id":"7441780437695086628","created_at":1732721480';
const ZERO = '"last_error":{"code":0,"msg":""}';
const SECTION = '"section_id":"7441951200360120346"';
const MESSAGE = (id: string) => `"id":"${id}","conversation_id":"7441951200360120346","bot_id":"7441780437695086628","role":"assistant"`;
const TAIL = `"content_type":"text","chat_id":"7441982054331547711",${SECTION}`;
const VERBOSE = String.raw`"{\"msg_type\":\"generate_answer_finish\",\"data\":\"{\\\"finish_reason\\\":0,\\\"FinData\\\":\\\"\\\"}\",\"from_module\":null,\"from_unit\":null}"`;

export const REALISTIC_STREAM: string = [
  `event:conversation.chat.created\ndata:{${CHAT},${ZERO},"status":"created","usage":{"token_count":0,"output_count":0,"input_count":0},${SECTION}}\n\n`,
  `event:conversation.chat.in_progress\ndata:{${CHAT},${ZERO},"status":"in_progress","usage":{"token_count":0,"output_count":0,"input_count":0},${SECTION}}\n\n`,
  `event:conversation.message.delta\ndata:{${MESSAGE('7441982054331629631')},"type":"answer","content":"Today is ",${TAIL}}\n\n`,
  `event:conversation.message.delta\ndata:{${MESSAGE('7441982054331629631')},"type":"answer","content":"Wednesday.",${TAIL}}\n\n`,
  `event:conversation.message.completed\ndata:{${MESSAGE('7441982054331629631')},"type":"answer","content":"Today is Wednesday.",${TAIL},"created_at":1732721481}\n\n`,
  `event:conversation.message.completed\ndata:{${MESSAGE('7441982078243143699')},"type":"verbose","content":${VERBOSE},${TAIL},"created_at":1732721482}\n\n`,
  `event:conversation.message.completed\ndata:{${MESSAGE('7441982078243160083')},"type":"follow_up","content":"Is Wednesday special?",${TAIL},"created_at":1732721482}\n\n`,
  `event:conversation.chat.completed\ndata:{${CHAT},"completed_at":1732721483,${ZERO},"status":"completed","usage":{"token_count":62,"output_count":3,"input_count":59},${SECTION}}\n\n`,
  'event:done\ndata:"[DONE]"\n\n',
].join('');
