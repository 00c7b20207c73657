// What a file sent to the sandbox is, so that its bots can say what they received and tests can
// prove the bytes arrived whole: its type by its first bytes, an image's size, its length.

/** The type by the file's signature; application/octet-stream for anything else. */
export function sniffType(bytes: Buffer): string {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  return 'application/octet-stream';
}

/** Width × height of a PNG (IHDR) or GIF (logical screen); null for others. */
function dimensions(bytes: Buffer, type: string): string | null {
  if (type === 'image/png' && bytes.length >= 24) return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
  if (type === 'image/gif' && bytes.length >= 10) return `${bytes.readUInt16LE(6)}x${bytes.readUInt16LE(8)}`;
  return null;
}

/** E.g. "image/png 64x48, 1234 bytes". */
export function describeBytes(bytes: Buffer): string {
  const type = sniffType(bytes);
  const size = dimensions(bytes, type);
  return `${type}${size ? ` ${size}` : ''}, ${bytes.length} bytes`;
}
