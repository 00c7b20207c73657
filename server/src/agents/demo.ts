import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { agents } from '../db/schema.js';

export const DEMO_AGENT_NAME = 'Sandbox Assistant';

/** The offline demo's native agent; created once (start-up holds the bootstrap lock). */
export async function seedDemoAgent(db: Db): Promise<void> {
  const [existing] = await db.select({ id: agents.id }).from(agents).where(eq(agents.name, DEMO_AGENT_NAME));
  if (existing) return;
  await db.insert(agents).values({
    name: DEMO_AGENT_NAME,
    description: 'A native agent answered by the offline sandbox model. Try a message with [slow] or [reason] in it.',
    provider: 'native',
    model: 'sandbox-chat',
    prompt: 'You are a friendly assistant for the agentport demo.',
    openingStatement: 'Hi! I run on the offline sandbox model, so I answer without any internet access.',
    openingQuestions: ['What can you do?', 'Show me a slow answer [slow]', 'Think out loud [reason]'],
  });
}
