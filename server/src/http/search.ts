// A search box's text, checked and turned into a LIKE pattern; every list searched by text uses it.
import { badRequest } from './errors.js';

const MAX_SEARCH_CHARS = 200;

/** Text containing `q`, as a LIKE pattern (ilike for any case): the user's % and _ are plain characters. */
export function containsPattern(q: string): string {
  if (q.includes('\0')) throw badRequest('The search cannot contain a NUL character', 'invalid_search');
  if (q.length > MAX_SEARCH_CHARS) throw badRequest(`The search is longer than ${MAX_SEARCH_CHARS} characters`, 'invalid_search');
  return `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}
