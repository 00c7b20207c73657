// The signed-in user, shared by the whole app. The token lives in api.ts (localStorage).
import { computed, readonly, ref } from 'vue';
import { api, ApiError, getToken, setToken, setUnauthorizedHandler } from '../api';
import type { AuthResponse, CurrentUser, Permission, User } from '@agentport/server/contract';
import { CONSOLE_SECTIONS } from '../consoleSections';

const user = ref<User | null>(null);
let loading: Promise<void> | null = null;
let onSignedOut: (() => void) | null = null;
/** Why the server ended the session, when the sign-in page should say it (a disabled account). */
const signedOutReason = ref<string | null>(null);

function clearSession(): void {
  setToken(null);
  user.value = null;
  loading = null;
}

setUnauthorizedHandler((error) => {
  signedOutReason.value = error.code === 'account_disabled' ? error.message : null;
  clearSession();
  onSignedOut?.();
});

/** Loads the current user once (if a token is stored); later calls reuse the same promise. */
function ensureLoaded(): Promise<void> {
  if (!loading) {
    loading = (async () => {
      if (!getToken()) return;
      try {
        const res = await api<CurrentUser>('/api/auth/me');
        user.value = res.user;
      } catch (err) {
        // A rejected token is dropped (api.ts reports the 401); a network failure keeps it and
        // lets the next navigation try again.
        if (err instanceof ApiError && err.status === 401) clearSession();
        else loading = null;
      }
    })();
  }
  return loading;
}

function accept(res: AuthResponse): User {
  setToken(res.token);
  user.value = res.user;
  signedOutReason.value = null;
  loading = Promise.resolve();
  return res.user;
}

async function login(email: string, password: string): Promise<User> {
  return accept(await api<AuthResponse>('/api/auth/login', { method: 'POST', body: { email, password } }));
}

async function register(email: string, password: string, name: string, inviteCode = ''): Promise<User> {
  const body: Record<string, string> = { email, password };
  if (name.trim()) body.name = name.trim();
  if (inviteCode.trim()) body.inviteCode = inviteCode.trim();
  return accept(await api<AuthResponse>('/api/auth/register', { method: 'POST', body }));
}

async function logout(): Promise<void> {
  try {
    if (getToken()) await api('/api/auth/logout', { method: 'POST' });
  } catch {
    // Signing out locally is what matters; the token expires server-side anyway.
  } finally {
    clearSession();
  }
}

/** Called (by the router setup) with what to do when the server says the session is gone. */
function onSessionExpired(handler: () => void): void {
  onSignedOut = handler;
}

/** Whether the signed-in user's role holds `permission` (the server checks again on every request). */
const can = (permission: Permission) => user.value?.permissions.includes(permission) ?? false;

export function useAuth() {
  return {
    user: readonly(user),
    can,
    /** The console pages the user may open (the first is where the header's Console link goes). */
    consoleSections: computed(() => CONSOLE_SECTIONS.filter((section) => section.anyOf.some(can))),
    isSignedIn: computed(() => user.value !== null),
    signedOutReason: readonly(signedOutReason),
    ensureLoaded,
    login,
    register,
    logout,
    onSessionExpired,
  };
}
