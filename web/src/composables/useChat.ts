// State of one chat page: the agent and the open conversation (the list of conversations is
// useConversations'). The completion stream is consumed here and only here; components render the
// resulting state.
import { computed, ref, type Ref } from 'vue';
import { ApiError, api, apiFetch, errorMessage } from '../api';
import type { Attachment, CompletionEvent, Conversation, Message, MessageList, PublicAgent } from '@agentport/server/contract';
import { followAnswer, type FollowEnd } from './followAnswer';
import { readCompletionEvents } from './sse';

/** A message as the page shows it; `key` stays stable while the server id arrives mid-stream. */
export interface ChatMessage extends Message {
  key: string;
  /** Not stored yet: its id is the local key until the server's arrives (it cannot be replaced before). */
  local?: boolean;
  /** While streaming: the agent is busy with steps the user does not see. */
  working?: boolean;
}

export interface UseChatOptions {
  /** Called as soon as a new conversation has its id (its first answer still streaming), to put it in the URL. */
  onConversationCreated?: (conversationId: string) => void;
  /** Called when the list of conversations changed: one was created, or an answer ended (it moves to the top). */
  onConversationsChanged?: () => void;
}

let localKeys = 0;
const nextKey = () => `local-${++localKeys}`;

function newMessage(role: Message['role'], content: string, status: Message['status'], attachments: Attachment[] = []): ChatMessage {
  const key = nextKey();
  return {
    key,
    id: key,
    local: true,
    role,
    content,
    reasoningContent: '',
    status,
    error: null,
    usage: null,
    suggestions: [],
    attachments,
    createdAt: new Date().toISOString(),
  };
}

/** A user message's content on the wire: its text, or OpenAI's content parts when files go with it. */
function requestContent(text: string, attachments: Attachment[]) {
  if (attachments.length === 0) return text;
  return [...(text ? [{ type: 'text', text }] : []), ...attachments.map((file) => ({ type: 'file', file: { file_id: file.id } }))];
}

const STILL_STREAMING_POLL_MS = 2000;

export function useChat(agentId: Ref<string>, options: UseChatOptions = {}) {
  const agent = ref<PublicAgent | null>(null);
  const agentError = ref<string | null>(null);
  const conversationId = ref<string | null>(null);
  /** The open stored conversation as listed (its agent, whether it can go on); null for a new one. */
  const conversation = ref<Conversation | null>(null);
  const messages = ref<ChatMessage[]>([]);
  const loadingMessages = ref(false);
  const messagesError = ref<string | null>(null);
  const streaming = ref(false);
  const stopping = ref(false);

  let controller: AbortController | null = null;
  /** Following an answer that runs on the server without this page (see followAnswer). */
  let followController: AbortController | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let openSeq = 0;

  const lastAssistant = computed(() => {
    const last = messages.value[messages.value.length - 1];
    return last?.role === 'assistant' ? last : null;
  });
  const isNewConversation = computed(() => conversationId.value === null && messages.value.length === 0);
  /** An answer runs in this conversation: streamed here, or elsewhere (another tab, before a reload). */
  const answering = computed(() => streaming.value || lastAssistant.value?.status === 'streaming');
  /** The conversation's agent was unpublished: it can be read, not continued. */
  const readOnly = computed(() => conversation.value?.chatable === false);

  async function loadAgent(): Promise<void> {
    agentError.value = null;
    agent.value = null;
    try {
      agent.value = await api<PublicAgent>(`/api/ai-agent/${encodeURIComponent(agentId.value)}`);
    } catch (err) {
      agentError.value = errorMessage(err);
    }
  }

  function clearPoll(): void {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** Opens a stored conversation, or a blank new one when `id` is null. */
  async function openConversation(id: string | null): Promise<void> {
    if (id !== null && id === conversationId.value && !messagesError.value) return;
    abortStream();
    clearPoll();
    const seq = ++openSeq;
    conversationId.value = id;
    conversation.value = null;
    messages.value = [];
    messagesError.value = null;
    if (id === null) return;
    loadingMessages.value = true;
    try {
      await Promise.all([fetchMessages(id, seq), fetchConversation(id, seq)]);
    } finally {
      if (seq === openSeq) loadingMessages.value = false;
    }
  }

  async function fetchConversation(id: string, seq: number): Promise<void> {
    try {
      const found = await api<Conversation>(`/api/ai-agent/conversations/${encodeURIComponent(id)}`);
      if (seq === openSeq) conversation.value = found;
    } catch {
      // Its messages' request says what is wrong (the same 404).
    }
  }

  async function fetchMessages(id: string, seq: number): Promise<void> {
    try {
      const res = await api<MessageList>(`/api/ai-agent/conversations/${encodeURIComponent(id)}/messages`);
      if (seq !== openSeq) return;
      messages.value = res.items.map((m) => ({ ...m, key: m.id }));
      // An answer still running (e.g. after a reload mid-stream): show it as it goes on.
      if (lastAssistant.value?.status === 'streaming') {
        void follow(id, seq);
      } else if (!streaming.value) {
        stopping.value = false;
      }
    } catch (err) {
      if (seq === openSeq) messagesError.value = errorMessage(err);
    }
  }

  /**
   * Shows the answer running in the open conversation, from its text so far to its end. Should the
   * stream break off, or the answer end meanwhile, the stored conversation says where it stands.
   */
  async function follow(id: string, seq: number): Promise<void> {
    const answer = lastAssistant.value;
    const question = messages.value[messages.value.length - 2];
    if (!answer || !question) return;
    followController?.abort();
    const own = new AbortController();
    followController = own;
    let first = true;
    let end: FollowEnd = 'cut';
    try {
      end = await followAnswer(id, own.signal, (chunk) => {
        if (seq !== openSeq) return;
        // The first chunk holds the whole text so far: it replaces what the stored message had.
        if (first && !('error' in chunk)) {
          answer.content = '';
          answer.reasoningContent = '';
        }
        first = false;
        applyChunk(question, answer, chunk);
      });
    } catch (err) {
      // Refused (the conversation deleted, the session gone): the stored conversation says so.
      if (err instanceof ApiError) end = 'idle';
    } finally {
      if (followController === own) followController = null;
    }
    if (own.signal.aborted || seq !== openSeq) return;
    if (end === 'ended') {
      stopping.value = false;
      options.onConversationsChanged?.();
    } else if (end === 'idle') {
      // Nothing runs any more: it ended meanwhile.
      void fetchMessages(id, seq);
    } else {
      // Broken off or unreachable (a network drop): the answer runs on; follow it again shortly.
      clearPoll();
      pollTimer = setTimeout(() => void follow(id, seq), STILL_STREAMING_POLL_MS);
    }
  }

  function applyChunk(question: ChatMessage, answer: ChatMessage, chunk: CompletionEvent): void {
    if ('error' in chunk) {
      answer.working = false;
      answer.error = chunk.error;
      answer.status = 'failed';
      return;
    }
    answer.working = chunk.activity === 'working';
    if (chunk.conversation_id && !conversationId.value) conversationId.value = chunk.conversation_id;
    if (chunk.message_id && answer.local) Object.assign(answer, { id: chunk.message_id, local: false });
    if (chunk.user_message_id) Object.assign(question, { id: chunk.user_message_id, local: false });
    const choice = chunk.choices?.[0];
    if (!choice) return;
    if (choice.delta.reasoning_content) answer.reasoningContent += choice.delta.reasoning_content;
    if (choice.delta.content) answer.content += choice.delta.content;
    if (choice.finish_reason) {
      answer.status = chunk.status ?? 'completed';
      answer.usage = chunk.usage ?? null;
      answer.suggestions = chunk.suggestions ?? [];
    }
  }

  /**
   * Sends a user message (its text and the files uploaded for it) and streams the answer into the
   * message list. With `replaceFrom` (a stored user message's id) the message takes that one's
   * place: it and every later message go.
   */
  async function send(text: string, attachments: Attachment[] = [], replaceFrom?: string): Promise<void> {
    const content = text.trim();
    if ((!content && attachments.length === 0) || answering.value || readOnly.value) return;
    const replaced = replaceFrom ? messages.value.findIndex((m) => m.id === replaceFrom && m.role === 'user' && !m.local) : -1;
    if (replaceFrom && (replaced === -1 || !conversationId.value)) return;
    clearPoll();
    const wasNew = conversationId.value === null;
    const seq = openSeq;
    if (replaced !== -1) messages.value.splice(replaced);
    messages.value.push(newMessage('user', content, 'completed', attachments));
    messages.value.push(newMessage('assistant', '', 'streaming'));
    // The reactive proxies of the messages just pushed: mutating them re-renders token by token.
    const question = messages.value[messages.value.length - 2]!;
    const answer = messages.value[messages.value.length - 1]!;
    const ownController = new AbortController();
    controller = ownController;
    streaming.value = true;
    stopping.value = false;
    /** The answer started on the server: it runs on there even if this connection breaks. */
    let started = false;
    try {
      const body: Record<string, unknown> = {
        agentId: agentId.value,
        messages: [{ role: 'user', content: requestContent(content, attachments) }],
        stream: true,
        // A reload, a closed tab or a network drop does not end the answer; only Stop does.
        keepRunning: true,
      };
      if (conversationId.value) body.conversationId = conversationId.value;
      if (replaceFrom) body.replaceFrom = replaceFrom;
      const response = await apiFetch('/api/ai-agent/chat/completions', {
        method: 'POST',
        body,
        signal: ownController.signal,
        headers: { Accept: 'text/event-stream' },
      });
      started = true;
      const headerId = response.headers.get('X-Conversation-Id');
      if (headerId && !conversationId.value) conversationId.value = headerId;
      // The server has stored the new conversation: into the URL and the list now, so that a reload
      // finds its first answer, not only once the answer ends.
      if (wasNew && conversationId.value) {
        options.onConversationCreated?.(conversationId.value);
        options.onConversationsChanged?.();
      }
      if (!response.body) throw new Error('The server sent no answer stream.');
      await readCompletionEvents(response.body, (chunk) => applyChunk(question, answer, chunk));
      if (answer.status === 'streaming' && ownController.signal.aborted) answer.status = 'canceled';
    } catch (err) {
      if (ownController.signal.aborted) {
        if (answer.status === 'streaming') answer.status = 'canceled';
      } else if (!started) {
        answer.status = 'failed';
        answer.error = { message: errorMessage(err), type: 'request_error', code: 'request_failed' };
        // Unpublished while open: the page turns read-only.
        if (err instanceof ApiError && err.code === 'agent_unavailable' && conversation.value) conversation.value.chatable = false;
      }
    } finally {
      if (controller === ownController) controller = null;
      streaming.value = false;
      stopping.value = false;
    }
    if (seq !== openSeq) return; // The user moved to another conversation meanwhile.
    // The connection broke off before the answer's end, which runs on: follow it from the server.
    if (answer.status === 'streaming' && conversationId.value) {
      await follow(conversationId.value, seq);
      return;
    }
    options.onConversationsChanged?.();
  }

  /** The user message `answer` answers. */
  function questionOf(answer: ChatMessage): ChatMessage | null {
    const index = messages.value.findIndex((m) => m.key === answer.key);
    const question = index > 0 ? messages.value[index - 1] : undefined;
    return question?.role === 'user' ? question : null;
  }

  /** Answers the question of `answer` again (a new answer, or a retry after an error): `answer` and everything after it go. */
  async function regenerate(answer: ChatMessage): Promise<void> {
    const question = questionOf(answer);
    if (!question || answering.value) return;
    if (!question.local) return send(question.content, question.attachments, question.id);
    // Refused before anything was stored (the server unreachable, say): the same message, sent anew.
    messages.value.splice(messages.value.indexOf(question));
    await send(question.content, question.attachments);
  }

  /** Sends `text` in place of the user message `question`, with its files; the turns after it go. */
  async function edit(question: ChatMessage, text: string): Promise<void> {
    if (!question.local) await send(text, question.attachments, question.id);
  }

  /**
   * Stops the running answer: tells the server (whichever instance serves it, whichever tab started
   * it) and drops our own fetch, if this tab is the one streaming.
   */
  async function stop(): Promise<void> {
    if (!answering.value) return;
    stopping.value = true;
    const id = conversationId.value;
    const stopRequest = id
      ? api(`/api/ai-agent/conversations/${encodeURIComponent(id)}/stop`, { method: 'POST' }).catch(() => undefined)
      : Promise.resolve();
    controller?.abort();
    await stopRequest;
  }

  function abortStream(): void {
    controller?.abort();
    controller = null;
    followController?.abort();
    followController = null;
  }

  function dispose(): void {
    abortStream();
    clearPoll();
    openSeq++;
  }

  return {
    agent,
    agentError,
    conversationId,
    conversation,
    readOnly,
    messages,
    loadingMessages,
    messagesError,
    streaming,
    answering,
    stopping,
    lastAssistant,
    isNewConversation,
    loadAgent,
    openConversation,
    send,
    regenerate,
    edit,
    questionOf,
    stop,
    dispose,
  };
}

export type ChatState = ReturnType<typeof useChat>;
