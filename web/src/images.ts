/**
 * Whether the page may show an image from `src`: one embedded in the page (data:image/…) or served
 * by this platform. The page loads no image from another host (the server's CSP says the same), so
 * neither an answer nor an avatar URL can make a user's browser contact, and so inform, someone else.
 */
export function isLocalImage(src: string): boolean {
  if (!src) return false;
  if (src.startsWith('data:image/')) return true;
  try {
    return new URL(src, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}
