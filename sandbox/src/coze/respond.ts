// Coze's envelope: {code, msg, data?, detail:{logid}}. Errors before a stream are plain JSON too.
import type { RequestContext } from '../context.js';
import { sendJson } from '../http.js';

export function cozeOk(ctx: RequestContext, data: unknown): void {
  sendJson(ctx.res, 200, { code: 0, msg: '', data, detail: { logid: ctx.logid } });
}

/** HTTP 200 unless told otherwise: Coze reports most failures in `code`, not the status. */
export function cozeError(ctx: RequestContext, code: number, msg: string, status = 200): void {
  sendJson(ctx.res, status, { code, msg, detail: { logid: ctx.logid } });
}
