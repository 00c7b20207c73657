// How requests are read and checked, for every route at once: a JSON body may hold only text the
// database can store, a body is exactly what its schema lists (no unknown fields, no type coercion),
// and the parts of the URL, which are text by nature, are coerced (?page=2 is the number 2).
import { Ajv, type AnySchema } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';
import { validatorOnFirstUse } from './lazy-compile.js';

// ajv-formats is CommonJS; its plugin is also its `default`, which is how the types see it.
const addFormats = ajvFormats.default;

export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false }));
  const coercing = addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    validatorOnFirstUse(() =>
      httpPart === 'body' ? strict.compile(closeObjects(schema) as AnySchema) : coercing.compile(schema as AnySchema),
    ),
  );

  // Checked once the body is parsed, before any route sees it. PostgreSQL refuses a NUL in text and a
  // lone surrogate in JSON; caught here they are the client's 400, not a failed query.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
    parseJson(request, body, (error: Error | null, value?: unknown) => {
      const problem = error ? null : unstorableText(value, 'body', 0);
      done(error ?? (problem ? badRequest(`Invalid request: ${problem}`, 'validation_error') : null), value);
    });
  });
}

/** Deeper than any request the API takes; a bound on the walk below. */
const MAX_DEPTH = 64;

/** Where the first string (value or property name) that the database cannot store is, and why; null when there is none. */
function unstorableText(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem && `${path} ${problem}`;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth === MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`;
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = textProblem(key);
    const problem = keyProblem ? `${path} has a property name that ${keyProblem}` : unstorableText(item, `${path}/${key}`, depth + 1);
    if (problem) return problem;
  }
  return null;
}

export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): string | null {
  if (text.includes('\0')) return 'contains a NUL character (\\u0000), which text cannot hold';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character';
  return null;
}

const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'] as const;
const SUBSCHEMAS = [
  'items',
  'prefixItems',
  'additionalItems',
  'contains',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'if',
  'then',
  'else',
] as const;

type Schema = Record<string, unknown>;

/**
 * A copy of a body schema in which every object that lists its properties refuses any other (an
 * unknown field is a client's mistake to hear about, not a value to store), unless the object says
 * `additionalProperties` itself.
 */
export function closeObjects(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Schema = { ...schema };
  for (const key of SCHEMA_MAPS) {
    const map = copy[key] as Schema | undefined;
    if (map) copy[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, closeObjects(sub)]));
  }
  for (const key of SUBSCHEMAS) {
    const sub = copy[key];
    if (sub !== undefined) copy[key] = Array.isArray(sub) ? sub.map(closeObjects) : closeObjects(sub);
  }
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}
