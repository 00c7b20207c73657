// @agentport/sandbox: an offline stand-in for Coze's OpenAPI and an OpenAI-compatible model.
export { startSandbox, type Sandbox, type SandboxOptions, type RecordedRequest } from './server.js';
export type { OAuthApp } from './context.js';
export { BENCH_BOTS, BOTS, type BotDef, type BotKey, type BotVariable, type IconKind } from './bots.js';
export { renderEvent, seededRandom } from './sse.js';
export { REALISTIC_STREAM } from './coze/realistic.js';
export { benchAnswer, benchDelta, BENCH_DEFAULTS } from './bench.js';
export { PACINGS, type Pacing } from './ticker.js';
export { echoText, HUGE_ANSWER_DELTAS, HUGE_DELTA, HUGE_LINE_BYTES, SPLIT_BYTES_ANSWER } from './coze/replies-test.js';
export { sandboxModelAnswer } from './openai.js';
export { solidPng } from './png.js';
