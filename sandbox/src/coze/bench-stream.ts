// The bench bot's stream, shaped for ticked playback: every byte rendered before the first tick.
import { benchAnswer, benchDelta } from '../bench.js';
import { renderEvent, type TickedStream } from '../sse.js';
import { messageJson } from './objects.js';
import { estimateTokens, type CozeScript } from './script.js';

const PERIOD = 4; // benchDelta cycles through 4 phrases, so a stream has only 4 distinct delta events

export function benchStream(script: CozeScript, deltas: number, intervalMs: number): TickedStream {
  script.start();
  const head = script.takeBytes();
  const answer = script.message('answer', '');
  const rendered = Array.from({ length: PERIOD }, (_, i) =>
    renderEvent('conversation.message.delta', messageJson({ ...answer, content: benchDelta(i) })),
  );
  const text = benchAnswer(deltas);
  script.countOutput(estimateTokens(text));
  script.advance(deltas * intervalMs);
  script.internal('answer', text, 0, answer.id);
  script.verboseFinish();
  script.complete();
  return { head, deltaCount: deltas, delta: (i) => rendered[i % PERIOD]!, tail: script.takeBytes() };
}
