// Where uploaded and downloaded files (avatars) live. The platform serves every file at
// /uploads/<key> whichever driver holds it; this folder is the only place that knows which.
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { storedFiles } from '../db/schema.js';

export interface StoredFile {
  bytes: Buffer;
  contentType: string;
  etag: string;
}

export interface FileStorage {
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<StoredFile | null>;
  delete(key: string): Promise<void>;
}

/** The image types the platform stores and serves (no SVG: it can carry script). */
export const IMAGE_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const CONTENT_TYPES = Object.fromEntries(Object.entries(IMAGE_EXTENSIONS).map(([type, ext]) => [ext, type]));

/** folder/uuid.ext — nothing else is ever a key, so a key can't escape its folder. */
export const KEY_PATTERN = /^[a-z]+\/[0-9a-f-]{36}\.(png|jpg|gif|webp)$/;
export const UPLOADS_PREFIX = '/uploads/';

const etagOf = (bytes: Buffer) => `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;

export function localStorage(dataDir: string): FileStorage {
  const root = path.join(dataDir, 'uploads');
  // Folders made before files were kept private are 0755: closing the root closes all below it.
  if (existsSync(root)) chmodSync(root, 0o700);
  const fileOf = (key: string) => path.join(root, key);
  return {
    async put(key, bytes) {
      // Users' files: for the server's own user only, not every local account.
      await mkdir(path.dirname(fileOf(key)), { recursive: true, mode: 0o700 });
      await writeFile(fileOf(key), bytes, { mode: 0o600 });
    },
    async get(key) {
      try {
        const bytes = await readFile(fileOf(key));
        const contentType = CONTENT_TYPES[path.extname(key).slice(1)] ?? 'application/octet-stream';
        return { bytes, contentType, etag: etagOf(bytes) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
  };
}

export function databaseStorage(db: Db): FileStorage {
  return {
    async put(key, bytes, contentType) {
      await db
        .insert(storedFiles)
        .values({ key, bytes, contentType, etag: etagOf(bytes) })
        .onConflictDoUpdate({ target: storedFiles.key, set: { bytes, contentType, etag: etagOf(bytes) } });
    },
    async get(key) {
      const [row] = await db.select().from(storedFiles).where(eq(storedFiles.key, key));
      return row ? { bytes: row.bytes, contentType: row.contentType, etag: row.etag } : null;
    },
    async delete(key) {
      await db.delete(storedFiles).where(eq(storedFiles.key, key));
    },
  };
}

/** Stores an image under a fresh key and returns the URL the platform serves it at. */
export async function saveImage(storage: FileStorage, folder: string, bytes: Buffer, contentType: string): Promise<string> {
  const ext = IMAGE_EXTENSIONS[contentType];
  if (!ext) throw new Error(`Unsupported image type ${contentType}`);
  const key = `${folder}/${randomUUID()}.${ext}`;
  await storage.put(key, bytes, contentType);
  return UPLOADS_PREFIX + key;
}

/** Removes a file the platform stored, given its URL; URLs it does not own are left alone. */
export async function removeStoredUrl(storage: FileStorage, url: string | null | undefined): Promise<void> {
  if (!url?.startsWith(UPLOADS_PREFIX)) return;
  const key = url.slice(UPLOADS_PREFIX.length);
  if (KEY_PATTERN.test(key)) await storage.delete(key);
}
