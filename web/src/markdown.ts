// Answers are written by bots and models: markdown becomes HTML through an allow-list, so an answer
// can format text but not restyle or cover the page, hold forms or frames, or make the browser
// contact another host on its own.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { highlighter, loadHighlighter } from './codeBlocks';
import { isLocalImage } from './images';

const markdown = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Task-list items as characters: an answer holds no form controls.
    checkbox: ({ checked }) => (checked ? '☑ ' : '☐ '),
    // A code block is highlighted once the highlighter is there; the first one rendered sends for it.
    code({ text, lang }) {
      const highlight = highlighter.value;
      if (!highlight) {
        loadHighlighter();
        return false;
      }
      const language = (lang ?? '').match(/^\S*/)?.[0] ?? '';
      const html = highlight(text.replace(/\n$/, ''), language);
      if (html === null) return false; // marked's own rendering
      return `<pre><code class="hljs language-${escapeHtml(language)}">${html}\n</code></pre>\n`;
    },
  },
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// What chat markdown needs, and nothing else: no style or id (they restyle the page), no forms,
// frames, embeds or document-level tags. Classes only as highlighted code has them (below).
const ALLOWED_TAGS = [
  'p',
  'br',
  'hr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'em',
  'b',
  'i',
  'del',
  's',
  'sub',
  'sup',
  'kbd',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'a',
  'img',
  'span',
];
const ALLOWED_ATTR = ['href', 'title', 'src', 'alt', 'align', 'start', 'class'];
/**
 * The classes highlighted code needs: a code block's language; highlight.js's token names (`hljs-…`,
 * a sub-scope's `name_`, an embedded language's `language-…`).
 */
const CODE_CLASS = /^(?:hljs|language-[\w+#.-]+)$/;
const TOKEN_CLASS = /^(?:hljs-[\w-]+|[a-z][\w-]*_+|language-[\w+#.-]+)$/;
// Web and mail addresses, and addresses on this site (DOMPurify also lets images be data: URLs).
const ALLOWED_URI_REGEXP = /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

// A class stays only where highlighted code puts one, and only with those names: no page style applies.
DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName !== 'class') return;
  const allowed = node.tagName === 'CODE' ? CODE_CLASS : node.tagName === 'SPAN' ? TOKEN_CLASS : null;
  const names = data.attrValue.split(/\s+/).filter(Boolean);
  data.keepAttr = allowed !== null && names.length > 0 && names.every((name) => allowed.test(name));
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'IMG') {
    const src = node.getAttribute('src');
    if (src && isLocalImage(src)) return;
    const remote = src ? webUrl(src) : null;
    if (remote) node.replaceWith(imageLink(node, remote));
    else node.remove();
  } else if (node.tagName === 'A' && node.hasAttribute('href')) {
    // Links open in a new tab that gets neither the opener nor the referrer.
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

function webUrl(src: string): URL | null {
  try {
    const url = new URL(src, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** A remote image becomes a link the user may open: nothing is fetched unless they choose to. */
function imageLink(image: Element, url: URL): HTMLAnchorElement {
  const link = image.ownerDocument.createElement('a');
  link.textContent = `🖼 ${image.getAttribute('alt')?.trim() || 'Image'} (${url.host})`;
  link.setAttribute('href', url.href);
  link.setAttribute('title', url.href);
  link.setAttribute('target', '_blank');
  link.setAttribute('rel', 'noopener noreferrer');
  return link;
}

/** Markdown → sanitised HTML, safe for v-html. Works on partial text while an answer streams. */
export function renderMarkdown(source: string): string {
  return DOMPurify.sanitize(markdown.parse(source, { async: false }), { ALLOWED_TAGS, ALLOWED_ATTR, ALLOWED_URI_REGEXP });
}
