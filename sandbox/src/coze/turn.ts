// What a bot's reply is computed from: this turn's message, the conversation's context, the variables.
import type { BotDef } from '../bots.js';
import type { CozeScript } from './script.js';

export interface TurnContext {
  bot: BotDef;
  /** The last user message of this chat (text). */
  text: string;
  /** Every user message the model sees (stored history + additional_messages), oldest first. */
  userTexts: string[];
  /** The files of the last user message (an object_string message), each described (describeBytes) or named by URL. */
  files: { type: string; name: string; description: string }[];
  /** custom_variables as sent (empty when none). */
  vars: Record<string, string>;
}

export type Reply = (script: CozeScript, turn: TurnContext) => void;

/** A variable's value: as sent in custom_variables, else the bot's default. */
export function variable(turn: TurnContext, keyword: string): string {
  return turn.vars[keyword] ?? turn.bot.variables.find((v) => v.keyword === keyword)?.default_value ?? '';
}
