// POST /api/ai-agent/files (one file per request, multipart field `file`) and
// GET /api/ai-agent/files/:id/content (its bytes, for its owner only).
import fastifyMultipart from '@fastify/multipart';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyPluginAsync } from 'fastify';
import { currentUser, guards } from '../auth/guard.js';
import type { Db } from '../db/index.js';
import { HttpError, badRequest } from '../http/errors.js';
import { errorResponses } from '../http/schemas.js';
import type { FileStorage } from '../storage/storage.js';
import { kindOf, sniffFileType, type FileType } from './content-type.js';
import { attachmentOf, cleanFileName, fileBytes, ownFile, saveFile, signedFile } from './files.js';
import { isValidSignature, type SignedUrlConfig } from './signed-url.js';
import { Attachment, FileLimits as FileLimitsSchema } from './schemas.js';

export interface FileLimits {
  maxBytes: number;
  types: readonly FileType[];
}

/** The types as a person reads them, for the 415's message. */
const TYPE_NAMES: Record<FileType, string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'application/pdf': 'PDF',
  'text/plain': 'plain text',
};

export function sizeInWords(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${+(bytes / 1024).toFixed(1)} KB`;
}

export const fileTooLarge = (maxBytes: number) =>
  new HttpError(413, `The file is too large: files of up to ${sizeInWords(maxBytes)} can be sent.`, 'file_too_large');

/** The type of `bytes` when it is one the server accepts; else the 415 that says which are. */
export function allowedType(bytes: Buffer, limits: FileLimits): FileType {
  const type = sniffFileType(bytes);
  if (type && limits.types.includes(type)) return type;
  const names = limits.types.map((t) => TYPE_NAMES[t]);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
  throw new HttpError(415, `This kind of file cannot be sent. Send ${list} files.`, 'unsupported_file_type');
}

/**
 * The file name as the user saw it: browsers (HTML's multipart/form-data encoding, fetch's FormData
 * too) send `"` as %22 and line breaks as %0A and %0D, and nothing else escaped.
 */
export const unescapeFormName = (name: string): string =>
  name.replace(/%22|%0A|%0D/gi, (escape) => ({ '%22': '"', '%0A': '\n', '%0D': '\r' })[escape.toUpperCase()]!);

// A plain plugin, as storage/routes.ts: the content route answers bytes, which no schema describes.
export const filesRoutes: FastifyPluginAsync<{
  db: Db;
  storage: FileStorage;
  limits: FileLimits & { perMessage: number };
  signedUrls: SignedUrlConfig | null;
}> = async (app, { db, storage, limits, signedUrls }) => {
  const { requireUser } = guards(db);
  // Here only: no other route takes multipart bodies. One file, no other fields worth the name.
  await app.register(fastifyMultipart, {
    limits: { fileSize: limits.maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 50 },
  });

  // The page checks these before uploading (the count, each size, the picker's types); the server checks them again.
  app.get(
    '/api/ai-agent/files/limits',
    { onRequest: requireUser, schema: { response: { 200: FileLimitsSchema, ...errorResponses } } },
    async () => ({ perMessage: limits.perMessage, maxBytes: limits.maxBytes, types: [...limits.types] }),
  );

  app.post(
    '/api/ai-agent/files',
    { onRequest: requireUser, schema: { response: { 201: Attachment, ...errorResponses } } },
    async (request, reply) => {
      const noFile = badRequest('Send one file as multipart/form-data, in a field named "file".', 'no_file');
      if (!request.isMultipart()) throw noFile;
      const part = await request.file();
      if (!part || part.fieldname !== 'file') throw noFile;
      let bytes: Buffer;
      try {
        bytes = await part.toBuffer();
      } catch (error) {
        if (error instanceof app.multipartErrors.RequestFileTooLargeError) throw fileTooLarge(limits.maxBytes);
        throw error;
      }
      if (!bytes.length) throw badRequest('The file is empty: choose a file with something in it.', 'no_file');
      const contentType = allowedType(bytes, limits);
      const file = await saveFile(db, storage, {
        userId: currentUser(request).id,
        name: cleanFileName(unescapeFormName(part.filename)),
        bytes,
        contentType,
      });
      return reply.code(201).send(attachmentOf(file));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { expires?: string; signature?: string } }>(
    '/api/ai-agent/files/:id/content',
    {
      // The owner's token, or (NATIVE_IMAGE_URLS=signed) a signed link a model endpoint was given.
      onRequest: async (request, reply) => {
        if (!(signedUrls && request.query.signature)) await requireUser(request, reply);
      },
      // 200 is the file's bytes, not JSON: only the errors have a schema. Any id that is not the
      // user's file is 404 (ownFile), a malformed one too; so is a link altered or expired.
      schema: { response: errorResponses },
    },
    async (request, reply) => {
      const { expires = '', signature } = request.query;
      const file =
        signedUrls && signature
          ? await signedFile(db, request.params.id, isValidSignature(signedUrls.secret, request.params.id, expires, signature))
          : await ownFile(db, request.params.id, currentUser(request).id);
      const bytes = await fileBytes(storage, file);
      // Images show in the page; anything else is a download, never rendered here. The bytes never
      // change under an id.
      reply
        .header(
          'content-disposition',
          contentDisposition(file.name, { type: kindOf(file.contentType) === 'image' ? 'inline' : 'attachment' }),
        )
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=86400, immutable');
      return reply.type(file.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : file.contentType).send(bytes);
    },
  );
};
