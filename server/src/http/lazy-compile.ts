// Fastify compiles every route's request validators and response serializers when the app becomes
// ready: about 0.3 s of start-up for this API, most of it for routes a given process may never serve.
// These compile each one when its route is first used instead (a few ms, once per process). Every
// route's schemas are still compiled and exercised by the tests, which call every route.
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/** The validator `compile()` would return, compiled on its first call; Fastify reads `errors` from it after each call. */
export function validatorOnFirstUse<V extends ((data: unknown) => boolean) & { errors?: unknown }>(compile: () => V) {
  let compiled: V | undefined;
  const validate = (data: unknown) => {
    compiled ??= compile();
    const result = compiled(data);
    validate.errors = compiled.errors;
    return result;
  };
  validate.errors = undefined as V['errors'];
  return validate;
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/** Fastify's own response serializer factory (fast-json-stringify), each serializer compiled on its first use. */
export const serializersOnFirstUse: SerializerFactory = (externalSchemas, options) => {
  const compileRoute = SerializerSelector()(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc) => (serialize ??= compileRoute(route))(doc);
  };
};
