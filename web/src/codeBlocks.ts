// Code blocks in answers: highlighted once the highlighter has loaded (a chunk of its own, fetched
// the first time a code block is rendered), and each given a Copy button.
import { shallowRef } from 'vue';
import { copyText } from './clipboard';

type Highlight = (code: string, language: string) => string | null;

/** The highlighter, once loaded; markdown rendered before then shows plain code and renders again. */
export const highlighter = shallowRef<Highlight | null>(null);
let loading: Promise<void> | null = null;

/** Starts loading the highlighter (once). Without it (a failed load), code simply stays plain. */
export function loadHighlighter(): void {
  loading ??= import('./highlight')
    .then((module) => {
      highlighter.value = module.highlight;
    })
    .catch(() => undefined);
}

const COPIED_MS = 1500;

/** Adds a Copy button to each code block in `container` that has none (rendered HTML comes without). */
export function addCopyButtons(container: HTMLElement): void {
  for (const pre of container.querySelectorAll('pre')) {
    if (pre.querySelector(':scope > .code-copy')) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'code-copy';
    button.dataset.testid = 'code-copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy code');
    button.addEventListener('click', () => {
      const code = pre.querySelector('code')?.textContent ?? '';
      void copyText(code.replace(/\n$/, '')).then((copied) => {
        button.textContent = copied ? 'Copied' : 'Copy failed';
        setTimeout(() => (button.textContent = 'Copy'), COPIED_MS);
      });
    });
    pre.prepend(button);
  }
}
