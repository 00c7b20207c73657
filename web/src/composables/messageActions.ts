// What a message's action buttons can do, provided by the chat page to the messages it lists (they
// are rendered a few components down; props through each level would say nothing there).
import { inject, provide, type ComputedRef, type InjectionKey } from 'vue';
import type { ChatMessage } from './useChat';

export interface MessageActions {
  /** An answer runs: nothing may be replaced meanwhile. */
  busy: ComputedRef<boolean>;
  /** The conversation's last message, when it is an answer: the one that can be answered again. */
  lastAnswer: ComputedRef<ChatMessage | null>;
  regenerate(answer: ChatMessage): void;
  edit(question: ChatMessage, text: string): void;
}

const KEY: InjectionKey<MessageActions> = Symbol('messageActions');

export function provideMessageActions(actions: MessageActions): void {
  provide(KEY, actions);
}

/** The page's actions; null where no chat page provides them (a message shown on its own). */
export function useMessageActions(): MessageActions | null {
  return inject(KEY, null);
}
