// Files users send to chat: their rows (owned by the uploader) and their bytes in the storage driver,
// kept together. The bytes live under chat-files/<uuid>, a key /uploads never serves (it serves only
// public images, storage/storage.ts KEY_PATTERN): a chat file is read through its owner's route alone.
import { randomUUID } from 'node:crypto';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { files, type Attachment, type FileRow } from '../db/schema.js';
import { notFound } from '../http/errors.js';
import { LONE_SURROGATE } from '../http/validation.js';
import type { FileStorage } from '../storage/storage.js';
import { isUuid } from '../agents/agents.js';
import { kindOf, type FileType } from './content-type.js';

const MAX_NAME_CHARS = 200;

export const attachmentOf = (file: FileRow): Attachment => ({
  id: file.id,
  name: file.name,
  size: file.size,
  contentType: file.contentType,
  kind: kindOf(file.contentType),
});

/**
 * A name fit to show and to put in a download's header: the last part of what the client sent (no
 * folders), without control or bidirectional-override characters, at most 200 characters; "file"
 * when nothing is left.
 */
export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? '').replace(new RegExp(LONE_SURROGATE, 'g'), '').split(/[/\\]/).at(-1) ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return [...clean].slice(0, MAX_NAME_CHARS).join('') || 'file';
}

/** Stores the bytes, then the row that owns them (bytes without a row are only waste; a row without bytes would be an error). */
export async function saveFile(
  db: Db,
  storage: FileStorage,
  file: { userId: string; name: string; bytes: Buffer; contentType: FileType },
): Promise<FileRow> {
  const storageKey = `chat-files/${randomUUID()}`;
  await storage.put(storageKey, file.bytes, file.contentType);
  try {
    const [row] = await db
      .insert(files)
      .values({ userId: file.userId, name: file.name, contentType: file.contentType, size: file.bytes.length, storageKey })
      .returning();
    return row!;
  } catch (error) {
    await storage.delete(storageKey).catch(() => {});
    throw error;
  }
}

/** The file `id` when the user uploaded it; anyone else's is 404, as if it did not exist. */
export async function ownFile(db: Db, id: string, userId: string): Promise<FileRow> {
  const [file] = isUuid(id)
    ? await db
        .select()
        .from(files)
        .where(and(eq(files.id, id), eq(files.userId, userId)))
    : [];
  if (!file) throw notFound(`No file with id ${id}`);
  return file;
}

/** The file a signed link names, when the link is `valid`; 404 otherwise, as for anyone else's file. */
export async function signedFile(db: Db, id: string, valid: boolean): Promise<FileRow> {
  const [file] = valid && isUuid(id) ? await db.select().from(files).where(eq(files.id, id)) : [];
  if (!file) throw notFound(`No file with id ${id}`);
  return file;
}

/** The bytes of a file the caller may read. */
export async function fileBytes(storage: FileStorage, file: FileRow): Promise<Buffer> {
  const stored = await storage.get(file.storageKey);
  if (!stored) throw new Error(`the bytes of file ${file.id} are missing from storage`);
  return stored.bytes;
}

/** Deletes the rows, then their bytes. */
async function removeRows(storage: FileStorage, removed: { storageKey: string }[]): Promise<number> {
  for (const { storageKey } of removed) await storage.delete(storageKey);
  return removed.length;
}

/** Deletes a conversation's files (called as the conversation is deleted). */
export async function removeConversationFiles(db: Db, storage: FileStorage, conversationId: string): Promise<number> {
  const removed = await db.delete(files).where(eq(files.conversationId, conversationId)).returning({ storageKey: files.storageKey });
  return removeRows(storage, removed);
}

/**
 * Deletes files in no conversation uploaded more than `hours` ago: sent with no message, or left by a
 * conversation deleted with its agent or user. Safe on every instance at once: each row is deleted once.
 */
export async function sweepUnattachedFiles(db: Db, storage: FileStorage, hours: number): Promise<number> {
  const removed = await db
    .delete(files)
    .where(and(isNull(files.conversationId), lt(files.createdAt, sql`now() - make_interval(hours => ${hours})`)))
    .returning({ storageKey: files.storageKey });
  return removeRows(storage, removed);
}
