import { createRouter, createWebHistory } from 'vue-router';
import type { Permission } from '@agentport/server/contract';
import { useAuth } from './composables/useAuth';
import { CONSOLE_SECTIONS } from './consoleSections';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in (and signed-in users are sent home). */
    guest?: boolean;
    /** Only for users whose role holds one of these. */
    anyOf?: Permission[];
  }
}

function sectionPermissions(name: string): Permission[] {
  const section = CONSOLE_SECTIONS.find((s) => s.name === name);
  if (!section) throw new Error(`No console section ${name}`);
  return section.anyOf;
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { guest: true } },
    { path: '/register', name: 'register', component: () => import('./pages/RegisterPage.vue'), meta: { guest: true } },
    { path: '/', name: 'agents', component: () => import('./pages/AgentsPage.vue') },
    // One route for both, so the page survives the URL gaining the new conversation's id.
    { path: '/chat/:agentId/:conversationId?', name: 'chat', component: () => import('./pages/ChatPage.vue') },
    {
      path: '/console',
      name: 'console',
      component: () => import('./pages/ConsolePage.vue'),
      meta: { anyOf: sectionPermissions('console') },
    },
    {
      path: '/console/users',
      name: 'console-users',
      component: () => import('./pages/UsersPage.vue'),
      meta: { anyOf: sectionPermissions('console-users') },
    },
    {
      path: '/console/usage',
      name: 'console-usage',
      component: () => import('./pages/UsagePage.vue'),
      meta: { anyOf: sectionPermissions('console-usage') },
    },
    { path: '/usage', name: 'usage', component: () => import('./pages/MyUsagePage.vue') },
    {
      path: '/console/roles',
      name: 'console-roles',
      component: () => import('./pages/RolesPage.vue'),
      meta: { anyOf: sectionPermissions('console-roles') },
    },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./pages/NotFoundPage.vue') },
  ],
});

const auth = useAuth();

auth.onSessionExpired(() => {
  const current = router.currentRoute.value;
  if (!current.meta.guest) void router.push({ name: 'login', query: { redirect: current.fullPath } });
});

router.beforeEach(async (to) => {
  await auth.ensureLoaded();
  if (to.meta.guest) return auth.isSignedIn.value ? { name: 'agents' } : true;
  if (!auth.isSignedIn.value) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } };
  }
  if (to.meta.anyOf && !to.meta.anyOf.some(auth.can)) return { name: 'agents' };
  return true;
});
