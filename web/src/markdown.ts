// Answers are written by bots and models: markdown becomes HTML through an allow-list, so an answer
// can format text but not restyle or cover the page, hold forms or frames, or make the browser
// contact another host on its own.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { isLocalImage } from './images';

const markdown = new Marked({
  gfm: true,
  breaks: true,
  // Task-list items as characters: an answer holds no form controls.
  renderer: { checkbox: ({ checked }) => (checked ? '☑ ' : '☐ ') },
});

// What chat markdown needs, and nothing else: no style, class or id (they restyle the page), no
// forms, frames, embeds or document-level tags.
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
];
const ALLOWED_ATTR = ['href', 'title', 'src', 'alt', 'align', 'start'];
// Web and mail addresses, and addresses on this site (DOMPurify also lets images be data: URLs).
const ALLOWED_URI_REGEXP = /^(?:https?:|mailto:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

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
