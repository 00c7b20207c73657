// Light or dark: the system's setting unless the user picked one (remembered in this browser).
// styles.css gives every colour as light-dark(light, dark); this only sets which of the two applies,
// through the root's data-theme (none: the system decides, with prefers-color-scheme).
import { ref } from 'vue';

export type ThemeChoice = 'system' | 'light' | 'dark';

const THEME_KEY = 'agentport.theme';
const CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

function readStored(): ThemeChoice {
  try {
    const stored = localStorage.getItem(THEME_KEY);
    return CHOICES.find((c) => c === stored) ?? 'system';
  } catch {
    return 'system';
  }
}

function apply(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

const choice = ref<ThemeChoice>(readStored());
apply(choice.value);

function set(next: ThemeChoice): void {
  choice.value = next;
  apply(next);
  try {
    if (next === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, next);
  } catch {
    // Storage can be unavailable (private mode); the choice then lasts as long as the tab.
  }
}

/** The next choice in the header's toggle: system → light → dark → system. */
function cycle(): void {
  set(CHOICES[(CHOICES.indexOf(choice.value) + 1) % CHOICES.length]!);
}

export function useTheme() {
  return { choice, set, cycle };
}
