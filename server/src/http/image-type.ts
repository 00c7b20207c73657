// Which image a downloaded file is, read from its first bytes (each format's own signature), never
// from the Content-Type its server claims. Only the four formats the platform stores and serves back
// from its own origin are images here: SVG (which can carry script), HTML and everything else are not.
export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** Leading bytes of each format; null matches any byte (the RIFF chunk size of WebP). */
const SIGNATURES: readonly (readonly [ImageType, readonly (number | null)[]])[] = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]], // \x89PNG\r\n\x1a\n
  ['image/jpeg', [0xff, 0xd8, 0xff]], // SOI marker, then the first segment's marker
  ['image/gif', [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]], // GIF87a
  ['image/gif', [0x47, 0x49, 0x46, 0x38, 0x39, 0x61]], // GIF89a
  ['image/webp', [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50]], // RIFF....WEBP
];

export function sniffImageType(bytes: Uint8Array): ImageType | null {
  for (const [type, signature] of SIGNATURES) {
    if (bytes.length >= signature.length && signature.every((byte, i) => byte === null || bytes[i] === byte)) return type;
  }
  return null;
}
