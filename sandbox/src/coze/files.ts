// POST /v1/files/upload: multipart/form-data with the file in the field `file` (as Coze's SDKs send
// it) → {code:0, data:{id, bytes, file_name, created_at}}. The file is kept for chats of this sandbox
// (object_string items name it by file_id). `[refuse-upload]` in the file name answers a Coze error
// instead, for tests of what a user sees then; `[slow-upload:<ms>]` answers as usual, <ms> later (a slow
// link or a busy Coze: the platform's upload time allowance is longer than its ordinary one).
import type { RequestContext } from '../context.js';
import { newId, nowSeconds } from '../http.js';
import { cozeError, cozeOk } from './respond.js';

export interface UploadedFile {
  id: string;
  name: string;
  bytes: Buffer;
  createdAt: number;
}

/** Coze's own limit (docs/coze-openapi.md). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export async function uploadFile(ctx: RequestContext): Promise<void> {
  const contentType = ctx.req.headers['content-type'] ?? '';
  if (!Buffer.isBuffer(ctx.body) || !contentType.includes('multipart/form-data')) {
    return cozeError(ctx, 4000, 'Invalid parameter: send the file as multipart/form-data in the field "file"');
  }
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(ctx.body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    return cozeError(ctx, 4000, 'Invalid parameter: the multipart body could not be read');
  }
  const file = form.get('file');
  if (!(file instanceof File)) return cozeError(ctx, 4000, 'Invalid parameter: file is required');
  if (file.size > MAX_FILE_BYTES) return cozeError(ctx, 4000, 'Invalid parameter: the file is larger than 512 MB');
  if (file.name.includes('[refuse-upload]')) return cozeError(ctx, 4000, 'Invalid parameter: the file could not be stored');
  const slow = /\[slow-upload:(\d+)\]/.exec(file.name);
  if (slow) {
    await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    if (ctx.res.destroyed) return; // the platform gave up waiting
  }
  const stored: UploadedFile = { id: newId(), name: file.name, bytes: Buffer.from(await file.arrayBuffer()), createdAt: nowSeconds() };
  ctx.core.files.set(stored.id, stored);
  cozeOk(ctx, { id: stored.id, bytes: stored.bytes.length, file_name: stored.name, created_at: stored.createdAt });
}
