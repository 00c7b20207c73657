// The files of a new chat message. The message names them by OpenAI content parts: `file` with the
// id of an upload (POST /api/ai-agent/files; the web app sends every attachment so), or `image_url`
// with a data: URL or an http(s) URL, which is downloaded under the server's outbound rules (as bot
// avatars are: http/outbound.ts) and stored like an upload, so that the history shows it.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { isUuid } from '../agents/agents.js';
import type { Db } from '../db/index.js';
import { files, type FileRow } from '../db/schema.js';
import { HttpError, badRequest } from '../http/errors.js';
import { IMAGE_EXTENSIONS } from '../storage/storage.js';
import type { FileStorage } from '../storage/storage.js';
import { fetchImage, OutboundError, urlForLog, type OutboundRules } from '../http/outbound.js';
import { allowedType, fileTooLarge, type FileLimits } from './routes.js';
import { attachmentOf, cleanFileName, fileBytes, saveFile } from './files.js';
import type { Attachment } from './schemas.js';

/** A file named by a content part of the message. */
export type AttachmentRef = { fileId: string } | { imageUrl: string };

export interface AttachmentDeps {
  db: Db;
  storage: FileStorage;
  limits: FileLimits & { perMessage: number };
  /** Where image_url parts may be downloaded from (tests trust a local server). */
  imageRules: OutboundRules;
  log: FastifyBaseLogger;
}

/** A file as a provider reads it. */
export interface ChatAttachment extends Attachment {
  /** Coze's id for these bytes in the Coze `account`, once they were uploaded there. */
  cozeFileId(account: string): string | null;
  bytes(): Promise<Buffer>;
  /** Keeps Coze's id on the file, so that it is uploaded to that Coze account once. */
  rememberCozeFileId(cozeFileId: string, account: string): Promise<void>;
}

const IMAGE_DOWNLOAD_TIMEOUT_MS = 15_000;

/**
 * The files the parts name, in their order, owned by `userId`: each file id must be one of the user's
 * uploads, in no conversation yet or in `conversationId`; each image_url is stored as a new file.
 * `check` sees the uploads before any image is downloaded (an agent that cannot read one refuses here).
 */
export async function resolveAttachments(
  deps: AttachmentDeps,
  request: { userId: string; conversationId: string | undefined; refs: AttachmentRef[]; check(files: FileRow[]): void },
): Promise<FileRow[]> {
  const { db } = deps;
  const ids = [...new Set(request.refs.flatMap((ref) => ('fileId' in ref ? [ref.fileId] : [])))];
  const unknown = ids.find((id) => !isUuid(id));
  const rows =
    ids.length && unknown === undefined
      ? await db
          .select()
          .from(files)
          .where(and(inArray(files.id, ids), eq(files.userId, request.userId)))
      : [];
  const missing = unknown ?? ids.find((id) => !rows.some((row) => row.id === id));
  // Not the user's, removed (unsent files go after FILE_UNATTACHED_HOURS), or never uploaded: the same answer.
  if (missing !== undefined) {
    throw badRequest('A file attached to this message is no longer available. Remove it and attach it again.', 'unknown_file');
  }
  const elsewhere = rows.find((row) => row.conversationId !== null && row.conversationId !== request.conversationId);
  if (elsewhere) throw badRequest(`${elsewhere.name} was sent in another conversation. Attach it again to send it here.`, 'unknown_file');
  request.check(rows);

  const resolved: FileRow[] = [];
  for (const ref of request.refs) {
    if ('fileId' in ref) {
      const row = rows.find((r) => r.id === ref.fileId)!;
      if (!resolved.includes(row)) resolved.push(row);
    } else {
      resolved.push(await ingestImage(deps, request.userId, ref.imageUrl));
    }
  }
  return resolved;
}

/** The files join the conversation their message went to (those already in it stay). */
export async function attachToConversation(db: Db, fileIds: string[], conversationId: string): Promise<void> {
  if (!fileIds.length) return;
  await db
    .update(files)
    .set({ conversationId })
    .where(and(inArray(files.id, fileIds), isNull(files.conversationId)));
}

export function chatAttachment(db: Db, storage: FileStorage, file: FileRow): ChatAttachment {
  let coze = { fileId: file.cozeFileId, account: file.cozeAccount };
  return {
    ...attachmentOf(file),
    cozeFileId: (account) => (coze.account === account ? coze.fileId : null),
    bytes: () => fileBytes(storage, file),
    async rememberCozeFileId(fileId, account) {
      coze = { fileId, account };
      await db.update(files).set({ cozeFileId: fileId, cozeAccount: account }).where(eq(files.id, file.id));
    },
  };
}

const DATA_URL = /^data:([^,]*),/;

/** An image_url part's image, stored as the user's file. */
async function ingestImage(deps: AttachmentDeps, userId: string, url: string): Promise<FileRow> {
  const { limits } = deps;
  let bytes: Buffer;
  let name = 'image';
  const data = DATA_URL.exec(url);
  if (data) {
    if (!data[1]!.endsWith(';base64'))
      throw badRequest(
        'The image could not be read: an image_url data: URL must be base64 (data:image/png;base64,…).',
        'invalid_image_url',
      );
    const encoded = url.slice(data[0].length);
    // Refused before decoding when the text alone is too long.
    if (Math.floor((encoded.length * 3) / 4) > limits.maxBytes + 2) throw fileTooLarge(limits.maxBytes);
    bytes = Buffer.from(encoded, 'base64');
    if (bytes.length > limits.maxBytes) throw fileTooLarge(limits.maxBytes);
  } else {
    try {
      ({ bytes } = await fetchImage(url, { rules: deps.imageRules, maxBytes: limits.maxBytes, timeoutMs: IMAGE_DOWNLOAD_TIMEOUT_MS }));
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      if (error.reason === 'too-large') throw fileTooLarge(limits.maxBytes);
      deps.log.info(
        { image: { url: urlForLog(url), reason: error.reason, httpStatus: error.httpStatus } },
        `image_url not downloaded: ${error.message}`,
      );
      // One sentence whatever failed: the answer tells nothing of the network behind the server.
      throw badRequest(
        'The image at image_url could not be downloaded: it must be a PNG, JPEG, GIF or WebP image at a public https address.',
        'image_unavailable',
      );
    }
    const last = decodeURIComponentSafe(new URL(url).pathname).split('/').at(-1);
    if (last) name = cleanFileName(last).replace(/\.[a-z0-9]+$/i, '') || name;
  }
  const contentType = allowedType(bytes, limits);
  if (!contentType.startsWith('image/')) {
    throw new HttpError(415, 'This is not an image that can be sent: send a PNG, JPEG, GIF or WebP image.', 'unsupported_file_type');
  }
  return saveFile(deps.db, deps.storage, { userId, name: `${name}.${IMAGE_EXTENSIONS[contentType]}`, bytes, contentType });
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
