// The console's pages and the permissions that open each (any one of them): the router guards them,
// the header links to the first one the user may open, and the console's tabs list those they may.
import type { Permission } from '@agentport/server/contract';

export interface ConsoleSection {
  /** The route's name. */
  name: string;
  label: string;
  anyOf: Permission[];
}

export const CONSOLE_SECTIONS: ConsoleSection[] = [
  { name: 'console', label: 'Agents', anyOf: ['agents.manage', 'coze.import'] },
  { name: 'console-users', label: 'Users', anyOf: ['users.manage'] },
  { name: 'console-roles', label: 'Roles', anyOf: ['roles.manage'] },
  { name: 'console-usage', label: 'Usage', anyOf: ['usage.view'] },
];
