// Every error the API answers has one shape, ErrorResponse: {statusCode, error, message, code?, ...extra}.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorExtra, ErrorResponse } from './schemas.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code?: string,
    /** Extra fields that help the client act, e.g. the existing agent's id on a 409. */
    readonly extra: ErrorExtra = {},
    /** Headers that go with it, e.g. Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, message, code);
export const notFound = (message: string) => new HttpError(404, message, 'not_found');
export const conflict = (message: string, extra?: ErrorExtra) => new HttpError(409, message, 'conflict', extra);

export function errorBody(statusCode: number, message: string, code?: string, extra: ErrorExtra = {}): ErrorResponse {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(code ? { code } : {}), ...extra };
}

export function installErrorHandler(app: FastifyInstance): void {
  // Ajv's own words, except that an unknown property is named ("must NOT have additional properties" is not).
  app.setSchemaErrorFormatter(
    (errors, dataVar) =>
      new Error(
        errors
          .map((error) => {
            const where = `${dataVar}${error.instancePath}`;
            return error.keyword === 'additionalProperties'
              ? `${where} has an unknown property "${String(error.params.additionalProperty)}"`
              : `${where} ${error.message}`;
          })
          .join(', '),
      ),
  );
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      return reply
        .code(error.statusCode)
        .headers(error.headers)
        .send(errorBody(error.statusCode, error.message, error.code, error.extra));
    }
    const status = error.statusCode ?? 500;
    if ('validation' in error && error.validation) {
      return reply.code(400).send(errorBody(400, `Invalid request: ${error.message}`, 'validation_error'));
    }
    if (status < 500) {
      // Fastify's own client errors (malformed JSON, body too large, bad content type) are clear already.
      return reply.code(status).send(errorBody(status, error.message, error.code));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody(500, 'Internal server error', 'internal_error'));
  });
}

export const noRouteBody = (request: FastifyRequest) =>
  errorBody(404, `No route for ${request.method} ${request.url.split('?')[0]}`, 'not_found');
