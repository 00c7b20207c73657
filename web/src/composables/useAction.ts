// An async action a button or form starts: `busy` while it runs, `error` holding the readable
// message of whatever it threw (cleared when it starts again).
import { ref, type Ref } from 'vue';
import { errorMessage } from '../api';

export interface Action<Args extends unknown[]> {
  /** Runs the action; never rejects (a failure lands in `error`). */
  run: (...args: Args) => Promise<void>;
  busy: Ref<boolean>;
  error: Ref<string | null>;
}

export function useAction<Args extends unknown[]>(fn: (...args: Args) => Promise<unknown>): Action<Args> {
  const busy = ref(false);
  const error = ref<string | null>(null);

  async function run(...args: Args): Promise<void> {
    error.value = null;
    busy.value = true;
    try {
      await fn(...args);
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      busy.value = false;
    }
  }

  return { run, busy, error };
}
