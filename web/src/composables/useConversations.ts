// The signed-in user's conversations with every agent, as the sidebar lists them: newest first, a
// page at a time, searched by title on the server. The open conversation's own state is useChat's.
import { ref, watch } from 'vue';
import { api, errorMessage } from '../api';
import type { Conversation, ConversationList } from '@agentport/server/contract';

const PAGE_SIZE = 30;
/** The server's largest page: a refresh reloads what is shown in one request, up to this. */
const MAX_PAGE_SIZE = 100;
const SEARCH_DEBOUNCE_MS = 300;
const STILL_ANSWERING_POLL_MS = 2000;

export interface UseConversationsOptions {
  /** True while this tab streams an answer itself: its end refreshes the list, no need to poll. */
  streaming?: () => boolean;
}

export function useConversations(options: UseConversationsOptions = {}) {
  const items = ref<Conversation[]>([]);
  const nextCursor = ref<string | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  /** The search box's text; the list follows it after a pause in typing. */
  const search = ref('');

  /** Only the latest request's answer is shown (an older one may arrive later). */
  let seq = 0;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let searchTimer: ReturnType<typeof setTimeout> | null = null;
  let disposed = false;

  const fetchPage = (limit: number, cursor?: string) =>
    api<ConversationList>('/api/ai-agent/conversations', { query: { limit, cursor, q: search.value.trim() || undefined } });

  /** Reloads the list from the top, as many as are shown (at least a page). */
  async function refresh(): Promise<void> {
    const mine = ++seq;
    loading.value = true;
    try {
      const page = await fetchPage(Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, items.value.length)));
      if (mine !== seq) return;
      items.value = page.items;
      nextCursor.value = page.nextCursor;
      error.value = null;
    } catch (err) {
      if (mine === seq) error.value = errorMessage(err);
    } finally {
      if (mine === seq) loading.value = false;
    }
    if (mine === seq) pollWhileAnswering();
  }

  /** The next page, after the last one shown. */
  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return;
    const mine = seq;
    loadingMore.value = true;
    try {
      const page = await fetchPage(PAGE_SIZE, nextCursor.value);
      if (mine !== seq) return;
      const shown = new Set(items.value.map((c) => c.id));
      items.value = [...items.value, ...page.items.filter((c) => !shown.has(c.id))];
      nextCursor.value = page.nextCursor;
      error.value = null;
    } catch (err) {
      if (mine === seq) error.value = errorMessage(err);
    } finally {
      loadingMore.value = false;
    }
  }

  // An answer streaming elsewhere (another tab, or one just stopped and not yet saved): look again
  // until it settles, so that no conversation stays marked "Answering…".
  function pollWhileAnswering(): void {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer =
      !disposed && items.value.some((c) => c.answering) && !options.streaming?.()
        ? setTimeout(() => void refresh(), STILL_ANSWERING_POLL_MS)
        : null;
  }

  watch(search, () => {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      items.value = [];
      void refresh();
    }, SEARCH_DEBOUNCE_MS);
  });

  /** Renames a conversation; throws the server's refusal (e.g. an empty title) for the caller to show. */
  async function rename(id: string, title: string): Promise<void> {
    const renamed = await api<Conversation>(`/api/ai-agent/conversations/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: { title },
    });
    items.value = items.value.map((c) => (c.id === id ? renamed : c));
  }

  async function remove(id: string): Promise<void> {
    await api(`/api/ai-agent/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' });
    items.value = items.value.filter((c) => c.id !== id);
  }

  function dispose(): void {
    disposed = true;
    seq++;
    if (pollTimer) clearTimeout(pollTimer);
    if (searchTimer) clearTimeout(searchTimer);
  }

  return { items, nextCursor, error, loading, loadingMore, search, refresh, loadMore, rename, remove, dispose };
}

export type ConversationsState = ReturnType<typeof useConversations>;
