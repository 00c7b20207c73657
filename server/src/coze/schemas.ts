// What the console's Coze routes answer, as schemas (for the routes) and types (for the web app, via
// ../contract.ts).
import { Type, type Static } from 'typebox';
import { ConsoleAgent } from '../agents/schemas.js';

/** A bot published to the API in the Coze space, and whether it is an agent here already. */
export const CozeBot = Type.Object({
  botId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  /** Coze's signed, expiring icon URL (the page shows initials: it loads no image from another host). */
  iconUrl: Type.String(),
  publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  imported: Type.Boolean(),
  /** The agent the bot was imported as. */
  agentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
});
export type CozeBot = Static<typeof CozeBot>;

export const CozeBotPage = Type.Object({
  items: Type.Array(CozeBot),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});
export type CozeBotPage = Static<typeof CozeBotPage>;

/** An import or a sync: the agent, and why its avatar is missing when it could not be downloaded. */
export const ImportResult = Type.Object({ agent: ConsoleAgent, avatarError: Type.Optional(Type.String()) });
export type ImportResult = Static<typeof ImportResult>;
