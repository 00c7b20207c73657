// What the agent routes take and answer, as schemas (for the routes) and types (for the web app, via
// ../contract.ts).
import { Type, type Static } from 'typebox';
import { RoleKey } from '../roles/schemas.js';

const AvatarUrl = Type.Union([Type.String({ maxLength: 2048, pattern: '^(https?://|/uploads/)' }), Type.Null()]);
const EditableFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.String({ maxLength: 2000 }),
  avatar: AvatarUrl,
  model: Type.String({ minLength: 1, maxLength: 200 }),
  prompt: Type.String({ maxLength: 100_000 }),
  openingStatement: Type.String({ maxLength: 5000 }),
  openingQuestions: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 10 }),
  published: Type.Boolean(),
  /**
   * Native agents: users may send files other than images; text files reach the model as their text,
   * other files are refused (400 file_not_accepted). Coze agents take every file type the server does.
   */
  acceptsFiles: Type.Boolean(),
  /** The keys of the roles that see the agent and may chat with it; null: everyone. */
  visibleTo: Type.Union([Type.Array(RoleKey, { minItems: 1, maxItems: 100, uniqueItems: true }), Type.Null()]),
  /** Coze agents only: default custom_variables sent with every chat. */
  customVariables: Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.String({ maxLength: 2000 })),
};

/** POST /console/api/ai-agent: a native agent. */
export const AgentCreate = Type.Object({
  name: EditableFields.name,
  model: EditableFields.model,
  description: Type.Optional(EditableFields.description),
  avatar: Type.Optional(EditableFields.avatar),
  prompt: Type.Optional(EditableFields.prompt),
  openingStatement: Type.Optional(EditableFields.openingStatement),
  openingQuestions: Type.Optional(EditableFields.openingQuestions),
  published: Type.Optional(EditableFields.published),
  acceptsFiles: Type.Optional(EditableFields.acceptsFiles),
  visibleTo: Type.Optional(EditableFields.visibleTo),
});
export type AgentCreate = Static<typeof AgentCreate>;

/** PATCH /console/api/ai-agent/:id: any of the editable fields. */
export const AgentPatch = Type.Partial(Type.Object(EditableFields));
export type AgentPatch = Static<typeof AgentPatch>;

const publicFields = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  /** A stored avatar (/uploads/…) or, entered by an admin, a URL on another host. */
  avatar: Type.Union([Type.String(), Type.Null()]),
  openingStatement: Type.String(),
  openingQuestions: Type.Array(Type.String()),
};

/** A published agent as the users who see it see it: no provider, model or prompt, whoever answers. */
export const PublicAgent = Type.Object(publicFields);
export type PublicAgent = Static<typeof PublicAgent>;

export const PublicAgentList = Type.Object({ items: Type.Array(PublicAgent) });
export type PublicAgentList = Static<typeof PublicAgentList>;

export const Provider = Type.Union([Type.Literal('native'), Type.Literal('coze')]);
export type Provider = Static<typeof Provider>;

export const CozeIntegration = Type.Object({
  botId: Type.String(),
  spaceId: Type.String(),
  syncedAt: Type.String({ format: 'date-time' }),
  iconUrl: Type.Optional(Type.String()),
  /** Default custom_variables sent with every chat (they fill `{{vars}}` in the bot's prompt). */
  customVariables: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type CozeIntegration = Static<typeof CozeIntegration>;

/** An agent as an admin manages it in the console. */
export const ConsoleAgent = Type.Object({
  ...publicFields,
  provider: Provider,
  model: Type.String(),
  prompt: Type.String(),
  published: Type.Boolean(),
  acceptsFiles: Type.Boolean(),
  /** The roles that see it; null: everyone. */
  visibleTo: Type.Union([Type.Array(Type.String()), Type.Null()]),
  thirdPartyIntegration: Type.Union([Type.Object({ coze: Type.Optional(CozeIntegration) }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type ConsoleAgent = Static<typeof ConsoleAgent>;

export const ConsoleAgentList = Type.Object({ items: Type.Array(ConsoleAgent) });
export type ConsoleAgentList = Static<typeof ConsoleAgentList>;

/** GET /api/ai-agent/models: the agents listed for the caller as an OpenAI model list, for OpenAI-compatible chat apps. */
export const ModelList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      id: Type.String({ format: 'uuid' }),
      object: Type.Literal('model'),
      created: Type.Integer(),
      owned_by: Type.String(),
      name: Type.String(),
    }),
  ),
});
export type ModelList = Static<typeof ModelList>;
