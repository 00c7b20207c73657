// Schemas every part of the API shares: the one error shape, and the health check. Pure TypeBox, so
// that the web app can take its types from here (see ../contract.ts).
import { Type, type Static } from 'typebox';

/** Every error the API answers: {statusCode, error, message, code?} and, on some, a field to act on. */
export const ErrorResponse = Type.Object({
  /** The HTTP status again, for clients that only keep the body. */
  statusCode: Type.Integer(),
  /** The status's name, e.g. "Not Found". */
  error: Type.String(),
  /** What went wrong, in words fit to show the user. */
  message: Type.String(),
  /** A stable name for programs, e.g. "validation_error", "conversation_busy", "coze_4100". */
  code: Type.Optional(Type.String()),
  /** 409 on a Coze import: the agent this bot already is. */
  agentId: Type.Optional(Type.String()),
  /** Coze's logid, for Coze support, on errors Coze answered (null when it gave none). */
  logId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** 502 of a non-streamed chat completion: the conversation, and the failed answer stored in it. */
  conversationId: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String()),
  /** 403 forbidden: the permission code the caller's role lacks (space-separated when any one of several would do). */
  permission: Type.Optional(Type.String()),
  /** 429 quota_exceeded: when the quota resets (ISO time; Retry-After says it in seconds). */
  resetsAt: Type.Optional(Type.String()),
});
export type ErrorResponse = Static<typeof ErrorResponse>;

/** The fields an error may carry beyond its status, message and code. */
export type ErrorExtra = Pick<ErrorResponse, 'agentId' | 'logId' | 'conversationId' | 'messageId' | 'permission' | 'resetsAt'>;

/**
 * Every route's 4xx and 5xx: declared so that the serialiser writes errors by the same schema (and
 * keeps exactly these fields) on every route.
 */
export const errorResponses = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;

/** 204: no body. */
export const NoContent = Type.Null();

export const Health = Type.Object({
  status: Type.Literal('ok'),
  database: Type.Union([Type.Literal('embedded'), Type.Literal('postgres')]),
});
export type Health = Static<typeof Health>;
