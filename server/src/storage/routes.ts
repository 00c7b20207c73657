import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../http/errors.js';
import { errorResponses } from '../http/schemas.js';
import { KEY_PATTERN, type FileStorage } from './storage.js';

export const uploadsRoutes: FastifyPluginAsync<{ storage: FileStorage }> = async (app, { storage }) => {
  app.get<{ Params: { '*': string } }>(
    '/uploads/*',
    {
      // 200 is the file's bytes and 304 has no body: neither is JSON, so only the errors have a schema.
      schema: { response: errorResponses },
    },
    async (request, reply) => {
      const key = request.params['*'];
      const file = KEY_PATTERN.test(key) ? await storage.get(key) : null;
      if (!file) throw notFound('No such file');
      // Keys are never reused (a new upload gets a new uuid), so files can be cached for long.
      reply
        .header('etag', file.etag)
        .header('cache-control', 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'");
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.type(file.contentType).send(file.bytes);
    },
  );
};
