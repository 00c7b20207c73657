// The bots the sandbox's Coze space holds: four demo bots that read well in a UI, then scripted
// bots that each reproduce one behaviour of the real service for tests.

export type ReplyKind =
  | 'travel'
  | 'codeReview'
  | 'newsDigest'
  | 'chineseTutor'
  | 'echo'
  | 'multiAnswer'
  | 'internals'
  | 'reasoning'
  | 'slow'
  | 'failMidStream'
  | 'errorEvent'
  | 'dropConnection'
  | 'splitBytes'
  | 'card'
  | 'bench'
  | 'hugeAnswer'
  | 'hugeLine'
  | 'describeFiles';

/**
 * How the bot's avatar URL answers: a real PNG, HTTP 500, an HTML page, a valid PNG over 3 MB, an SVG
 * document labelled image/png, a real PNG labelled application/octet-stream, or a redirect to an
 * inside address the way a request for cloud metadata would look (on loopback, so no test ever
 * reaches past this machine).
 */
export type IconKind = 'png' | 'broken' | 'html' | 'huge' | 'svg' | 'mislabelled' | 'metadata';

export interface BotVariable {
  keyword: string;
  default_value: string;
  description: string;
  enable: boolean;
}

export interface BotDef {
  id: string;
  name: string;
  description: string;
  /** Published to the API channel: listed in the space and chattable. */
  published: boolean;
  icon: IconKind;
  color: readonly [number, number, number];
  prompt: string;
  prologue: string;
  suggestedQuestions: readonly string[];
  variables: readonly BotVariable[];
  modelName: string;
  plugins: readonly string[];
  reply: ReplyKind;
  createdAt: number;
  updatedAt: number;
  publishedAt: number;
}

type BotFields = Omit<
  BotDef,
  'id' | 'createdAt' | 'updatedAt' | 'publishedAt' | 'published' | 'icon' | 'variables' | 'plugins' | 'modelName'
> &
  Partial<Pick<BotDef, 'published' | 'icon' | 'variables' | 'plugins' | 'modelName'>>;

const NEWEST_PUBLISH = 1732700000;
let defined = 0;

/** Ids 7400000000000000001, …002, …; each bot published a day before the previous one (list order = this file's order). */
function bot(fields: BotFields): BotDef {
  defined += 1;
  const publishedAt = NEWEST_PUBLISH - defined * 86_400;
  return {
    id: (7_400_000_000_000_000_000n + BigInt(defined)).toString(),
    published: true,
    icon: 'png',
    variables: [],
    plugins: [],
    modelName: 'Doubao-pro-32k',
    ...fields,
    createdAt: publishedAt - 30 * 86_400,
    updatedAt: publishedAt - 3_600,
    publishedAt,
  };
}

const variable = (keyword: string, default_value: string, description: string): BotVariable => ({
  keyword,
  default_value,
  description,
  enable: true,
});

const scripted = (reply: ReplyKind, name: string, description: string, extra: Partial<BotFields> = {}): BotFields => ({
  reply,
  name,
  description,
  color: [120, 120, 130],
  prompt: `You are the sandbox's "${name}" test bot.`,
  prologue: `Test bot: ${description}`,
  suggestedQuestions: ['Hello'],
  ...extra,
});

export const BOTS = {
  // Demo bots: markdown answers, prologue, suggested questions, variables.
  travel: bot({
    reply: 'travel',
    name: 'Travel Planner',
    color: [38, 132, 255],
    description: 'Plans weekend trips and city breaks: day-by-day itineraries, local food, and what to pack.',
    prompt:
      'You are a friendly travel planner. The traveller lives in {{home_city}} and prefers {{travel_style}} trips. Answer with a short day-by-day plan in markdown.',
    prologue: 'Hi! Tell me where you would like to go and for how long, and I will sketch an itinerary for you.',
    suggestedQuestions: [
      'Plan a 3-day trip to Kyoto',
      'Where should I go for a quiet weekend by the sea?',
      'What should I pack for Iceland in March?',
    ],
    variables: [
      variable('home_city', 'Shanghai', 'Where the traveller starts from'),
      variable('travel_style', 'relaxed', 'relaxed, adventurous or budget'),
    ],
    plugins: ['Weather', 'Maps'],
  }),
  codeReview: bot({
    reply: 'codeReview',
    name: 'Code Reviewer',
    color: [46, 160, 67],
    description: 'Reviews a code snippet like a careful senior engineer: bugs first, then readability, with a suggested fix.',
    prompt: 'You review {{language}} code. Point out bugs before style. Be concrete and kind.',
    prologue: 'Paste a function or a diff and I will review it: correctness first, then clarity.',
    suggestedQuestions: [
      'Review: function add(a, b) { return a - b }',
      'How do I make this loop faster?',
      'Is this SQL safe from injection?',
    ],
    variables: [variable('language', 'TypeScript', 'The language of the snippets')],
  }),
  newsDigest: bot({
    reply: 'newsDigest',
    name: 'Daily News Digest',
    color: [230, 120, 30],
    description: "Summarises the day's headlines on the topics you follow, three bullet points per topic.",
    prompt: 'You write a short morning digest on {{topics}}. Neutral tone, three bullets per topic, no speculation.',
    prologue: "Good morning! Which topics should today's digest cover?",
    suggestedQuestions: ["Give me today's tech digest", 'What happened in science this week?', 'Summarise the markets in three bullets'],
    variables: [variable('topics', 'technology, science', 'Comma-separated topics to follow')],
    plugins: ['News Search'],
  }),
  chineseTutor: bot({
    reply: 'chineseTutor',
    name: '中文老师 Chinese Tutor',
    color: [200, 40, 50],
    description: '耐心的中文老师：解释词语、纠正句子、用拼音和例句帮助你学习中文。A patient Mandarin tutor with pinyin and examples.',
    prompt: '你是一位耐心的中文老师。学生的水平是 {{level}}。先用中文解释，再用英文补充，并给出拼音。',
    prologue: '你好！我是你的中文老师。Ask me about a word, or send me a sentence to correct.',
    suggestedQuestions: ['“加油”是什么意思？', 'How do I say "nice to meet you"?', '请帮我改正：我昨天去了商店买东西了。'],
    variables: [variable('level', 'HSK 3', "The learner's level")],
  }),

  // Scripted test bots, one behaviour each.
  echo: bot(
    scripted(
      'echo',
      'Echo',
      'Answers `Turn <n>: you said "<msg>"` (+ previous message from turn 2, + [vars: …] when custom_variables are sent), 2 follow-ups.',
      {
        variables: [variable('nickname', '', 'Echoed back in [vars: …] when sent')],
      },
    ),
  ),
  multiAnswer: bot(scripted('multiAnswer', 'Multi Answer', 'Two answer messages, each with its own id, in one chat.')),
  internals: bot(
    scripted(
      'internals',
      'Internals',
      'verbose, function_call, tool_response, tool_output and knowledge messages (INTERNAL_TOOL_PAYLOAD) between answer deltas.',
      {
        plugins: ['Weather'],
      },
    ),
  ),
  reasoning: bot(
    scripted('reasoning', 'Reasoning', 'reasoning_content deltas (empty content) before the answer.', { modelName: 'DeepSeek-R1' }),
  ),
  slow: bot(scripted('slow', 'Slow', '100 answer deltas 150 ms apart (about 15 s): for Stop tests.')),
  failMidStream: bot(
    scripted('failMidStream', 'Fail Mid-Stream', 'A few deltas, then conversation.chat.failed (5000 "event interval error"), no done.'),
  ),
  errorEvent: bot(scripted('errorEvent', 'Error Event', 'A few deltas, then an `error` event {code:5000}, no done.')),
  dropConnection: bot(
    scripted('dropConnection', 'Drop Connection', 'A few deltas, then the socket is destroyed: no chat.completed, no done.'),
  ),
  unpublished: bot(
    scripted('echo', 'Unpublished', 'Exists but is not published to the API channel: not listed, chat answers JSON 4015.', {
      published: false,
    }),
  ),
  splitBytes: bot(
    scripted('splitBytes', 'Split Bytes', 'Answers "你好，世界 🌍🚀 — café" in 1–3-byte TCP writes that cut characters and lines.'),
  ),
  card: bot(
    scripted(
      'card',
      'Card',
      'A text answer, then an answer with content_type "card" (its content a JSON string, CARD_PAYLOAD inside), whole, without deltas.',
    ),
  ),
  brokenIcon: bot(scripted('echo', 'Broken Icon', 'Echo bot whose avatar URL answers HTTP 500.', { icon: 'broken' })),
  htmlIcon: bot(scripted('echo', 'HTML Icon', 'Echo bot whose avatar URL answers a text/html page.', { icon: 'html' })),
  hugeIcon: bot(scripted('echo', 'Huge Icon', 'Echo bot whose avatar is a valid PNG over 3 MB.', { icon: 'huge' })),
  svgIcon: bot(
    scripted('echo', 'SVG Icon', 'Echo bot whose avatar URL answers an SVG document (with a script) labelled image/png.', { icon: 'svg' }),
  ),
  mislabelledIcon: bot(
    scripted('echo', 'Mislabelled Icon', 'Echo bot whose avatar is a real PNG labelled application/octet-stream.', { icon: 'mislabelled' }),
  ),
  metadataIcon: bot(
    scripted('echo', 'Metadata Icon', 'Echo bot whose avatar URL redirects to an inside address (/latest/meta-data/ on loopback).', {
      icon: 'metadata',
    }),
  ),
  bench: bot(
    scripted(
      'bench',
      'Bench',
      '200 deltas 50 ms apart from one shared timer; custom_variables bench_deltas / bench_interval_ms / bench_pacing (spread | burst) override.',
    ),
  ),
  hugeAnswer: bot(
    scripted('hugeAnswer', 'Huge Answer', 'A 16 MB answer in 16 KB deltas, written as fast as the reader takes them, then completed.'),
  ),
  hugeLine: bot(
    scripted(
      'hugeLine',
      'Huge Line',
      'A few deltas, then a delta event whose data line runs 50 MB without a newline; then the connection drops.',
    ),
  ),
  fileInspector: bot(
    scripted(
      'describeFiles',
      'File Inspector',
      "Says what the message carried: each file (uploaded with /v1/files/upload) with its type, size and an image's width×height, then the text.",
    ),
  ),
} as const satisfies Record<string, BotDef>;

export type BotKey = keyof typeof BOTS;

/**
 * Bots that answer as Bench does, each its own agent once imported: a benchmark spreads its chats
 * over several agents, each with its own pace (custom_variables are set per agent).
 */
export const BENCH_BOTS: readonly BotDef[] = [
  BOTS.bench,
  ...Array.from({ length: 7 }, (_, i) =>
    bot(scripted('bench', `Bench ${i + 2}`, 'Answers as Bench does: for benchmarks over several agents.')),
  ),
];

const byId = new Map<string, BotDef>([...Object.values(BOTS), ...BENCH_BOTS].map((b) => [b.id, b]));

export const findBot = (id: string): BotDef | undefined => byId.get(id);

/** The space's bots for a publish_status filter, newest publish first (the sandbox has no drafts). */
export function listedBots(publishStatus: string): BotDef[] {
  const keep = (b: BotDef): boolean =>
    publishStatus === 'all' || (publishStatus === 'published_online' ? b.published : publishStatus === 'unpublished_draft' && !b.published);
  return [...byId.values()].filter(keep).sort((a, b) => b.publishedAt - a.publishedAt);
}
