// Answers of the four demo bots: markdown that reads well in a chat UI, paced like a real model.
import { pieces } from '../text.js';
import { variable, type Reply, type TurnContext } from './turn.js';

const GAP_MS = 40;
const quote = (text: string, max = 80): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A plugin call as Coze streams it before the answer: the call, then its result once the tool is done. */
interface PluginCall {
  name: string;
  arguments: Record<string, unknown>;
  result: string;
  toolMs: number;
}

function stream(
  script: Parameters<Reply>[0],
  markdown: string,
  followUps: string[],
  options: { perPiece?: number; plugin?: PluginCall } = {},
): void {
  script.start();
  const { plugin } = options;
  if (plugin) {
    script.internal('function_call', JSON.stringify({ name: plugin.name, arguments: plugin.arguments }), GAP_MS);
    script.internal('tool_response', plugin.result, plugin.toolMs);
  }
  script.answer(pieces(markdown, options.perPiece ?? 3), GAP_MS);
  script.verboseFinish(GAP_MS);
  script.followUps(followUps, GAP_MS);
  script.complete(GAP_MS);
}

const travel: Reply = (script, turn) => {
  const home = variable(turn, 'home_city');
  const style = variable(turn, 'travel_style');
  stream(
    script,
    `Here is a **${style}** plan for *${quote(turn.text)}*, starting from ${home}.

### Day 1 — Arrive and wander
- Check in near the old town, then walk the riverside at sunset.
- Dinner at a small family-run place: ask for the local speciality.

### Day 2 — The highlights
- Morning: the main sights at opening time, before the crowds.
- Afternoon: a museum if it rains, a market or a hike if it does not.

### Day 3 — A slow morning, then home
- Coffee, a last stroll, souvenirs, and an early train back to ${home}.

**Pack:** comfortable shoes, a light rain jacket and a power bank. Have a great trip! ✈️`,
    ['Suggest restaurants for day 1', 'What would this trip cost?', 'Make it more adventurous'],
  );
};

const codeReview: Reply = (script, turn) => {
  const language = variable(turn, 'language');
  stream(
    script,
    `Thanks! Here is my review of your ${language} snippet:

\`\`\`
${quote(turn.text, 200)}
\`\`\`

**Bugs first**
1. Check the edge cases: empty input, \`null\`/\`undefined\`, and very large values.
2. Make sure the body does exactly what the name promises (an \`add\` must not subtract).

**Readability**
- Prefer descriptive names once a function grows past a few lines.
- Add one test per bug you fix, so it stays fixed.

**Suggested fix**
\`\`\`ts
export function add(a: number, b: number): number {
  return a + b;
}
\`\`\`

Overall: small, focused and easy to fix. 👍`,
    ['Can you write the tests for it?', 'How would you make it faster?'],
  );
};

const newsDigest: Reply = (script, turn) => {
  const topics = variable(turn, 'topics')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const sections = topics.map((topic) => {
    const title = topic.charAt(0).toUpperCase() + topic.slice(1);
    return `**${title}**
- A major ${topic} conference opened today with a keynote on open standards.
- Researchers published a widely shared report on the state of ${topic} this year.
- Analysts expect steady interest in ${topic} through the next quarter.`;
  });
  stream(
    script,
    `## Your digest: ${quote(turn.text, 60)}

${sections.join('\n\n')}

_Sandbox content: these headlines are made up for the demo._`,
    ['Tell me more about the first story', 'Add a digest on climate'],
    // The bot searches the news first, as a real digest bot would: the platform shows it as "working".
    { plugin: { name: 'news_search', arguments: { topics }, result: JSON.stringify({ articles: topics.length * 3 }), toolMs: 1_200 } },
  );
};

const chineseTutor: Reply = (script, turn: TurnContext) => {
  const level = variable(turn, 'level');
  stream(
    script,
    `好的！我们来看看：「${quote(turn.text)}」

**解释 Explanation**
- 这句话的意思很清楚。The meaning is clear and the word order is natural.
- 注意“了”的用法：一个句子里通常只需要一个“了”。One 了 per clause is usually enough.

**例句 Examples**
1. 我昨天去商店买了东西。(Wǒ zuótiān qù shāngdiàn mǎile dōngxi.) — Yesterday I went to the shop and bought a few things.
2. 加油！我们一起学习中文。(Jiāyóu! Wǒmen yìqǐ xuéxí Zhōngwén.) — Keep going! Let's learn Chinese together.

你的水平：${level}。继续努力！💪`,
    ['再给我一个例句', 'How do I pronounce 了?', '“加油”还有别的说法吗？'],
    { perPiece: 4 },
  );
};

export const DEMO_REPLIES = { travel, codeReview, newsDigest, chineseTutor } satisfies Record<string, Reply>;
