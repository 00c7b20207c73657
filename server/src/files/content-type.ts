// What a file users send is, read from its bytes (never from its name or the type the client claims):
// the images the platform already recognises (http/image-type.ts), PDF by its header, and UTF-8 text.
// Only what is named here can be allowed (FILE_TYPES); SVG, HTML and other active content never are.
import { sniffImageType } from '../http/image-type.js';
import type { FileKind } from '../db/schema.js';

export const KNOWN_FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'] as const;
export type FileType = (typeof KNOWN_FILE_TYPES)[number];

const PDF_HEADER = Buffer.from('%PDF-');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text a person reads: valid UTF-8 without control characters other than tab, line feed, form feed and carriage return. */
function isText(bytes: Buffer): boolean {
  try {
    // eslint-disable-next-line no-control-regex
    return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(utf8.decode(bytes));
  } catch {
    return false;
  }
}

/** The file's type by its content, or null when it is none the server knows. */
export function sniffFileType(bytes: Buffer): FileType | null {
  const image = sniffImageType(bytes);
  if (image) return image;
  if (bytes.subarray(0, PDF_HEADER.length).equals(PDF_HEADER)) return 'application/pdf';
  if (bytes.length > 0 && isText(bytes)) return 'text/plain';
  return null;
}

export const kindOf = (contentType: string): FileKind => (contentType.startsWith('image/') ? 'image' : 'file');
