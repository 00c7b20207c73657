// For tests (AppOptions.checkResponses): holds every API route to the response schemas it declares.
// The serialiser writes only the fields a schema lists, so a field a handler sends but its schema
// forgot would vanish on the way to the client without a word; here such a body fails the request
// instead, naming the field. Routes of the API must declare their responses, or the app does not start.
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';
import { closeObjects } from './validation.js';

const addFormats = ajvFormats.default;

export const API_PATH = /^\/(api|console\/api|uploads|metrics)(\/|$)/;

type ResponseSchemas = Record<string, unknown>;

/** The schema Fastify serialises a status with: the exact code, else its class (4xx), else `default`. */
export function schemaForStatus(schemas: ResponseSchemas, status: number): unknown {
  return schemas[status] ?? schemas[`${Math.floor(status / 100)}xx`] ?? schemas.default;
}

/**
 * Checks values against schemas closed at every level: a property a schema does not list is an
 * error, not a value to drop. `problems` is null when the value is exactly what the schema declares.
 */
export function closedSchemaChecker() {
  const ajv = addFormats(new Ajv({ allErrors: true, coerceTypes: false, useDefaults: false, removeAdditional: false }));
  const compiled = new WeakMap<object, ValidateFunction>();
  return {
    problems(schema: object, value: unknown, name = 'body'): string | null {
      let validate = compiled.get(schema);
      if (!validate) {
        validate = ajv.compile(closeObjects(schema) as AnySchema);
        compiled.set(schema, validate);
      }
      return validate(value) ? null : ajv.errorsText(validate.errors, { dataVar: name });
    },
  };
}

export function installResponseCheck(app: FastifyInstance): void {
  const checker = closedSchemaChecker();

  app.addHook('onRoute', (route) => {
    if (!API_PATH.test(route.url)) return;
    const response = route.schema?.response as ResponseSchemas | undefined;
    if (!response || !schemaForStatus(response, 400) || !schemaForStatus(response, 500)) {
      throw new Error(`${String(route.method)} ${route.url} must declare its response schemas, 4xx and 5xx included`);
    }
  });

  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    const response = request.routeOptions.schema?.response as ResponseSchemas | undefined;
    if (!response) return payload; // no route matched: the not-found handler's body
    const where = `${request.method} ${request.routeOptions.url}`;
    const schema = schemaForStatus(response, reply.statusCode);
    if (!schema || typeof schema !== 'object') {
      throw new HttpError(500, `${where} sent a ${reply.statusCode} it declares no schema for`, 'response_not_declared');
    }
    const problems = checker.problems(schema, payload);
    if (problems) {
      throw new HttpError(
        500,
        `${where} sent a ${reply.statusCode} that is not what its schema declares: ${problems}`,
        'response_not_declared',
      );
    }
    return payload;
  });
}
