import {
  BatchQueueFullError,
  GenerationAbortedError,
  GenerationConfigError,
  GenerationInputError,
} from '@tsformer/decoding';
import { ChatTemplateError, TokenizerInputError } from '@tsformer/models';
import { bodyFieldName } from './completion-request.js';
import { OpenAIRequestError } from './errors.js';

/** An error as the server answers it: status, extra headers, OpenAI's `{error: {...}}` body. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
}

/** Seconds a client told "queue full" should wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

/** Why a request was cancelled by the server itself (its deadline), as an abort reason. */
export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

/**
 * Maps what a request can fail with onto OpenAI's error shape: the request's own mistakes are 400s
 * naming the body field (a generation parameter by its snake_case name), a full queue is 429 with
 * `Retry-After`, a passed deadline 504, body problems fastify finds 400/413, anything else 500.
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof OpenAIRequestError)
    return respond(error.status, error.message, error.type, error.param, error.code);
  if (error instanceof GenerationConfigError) {
    return respond(400, error.message, 'invalid_request_error', bodyFieldName(error.field), 'invalid_value');
  }
  if (
    error instanceof GenerationInputError ||
    error instanceof ChatTemplateError ||
    error instanceof TokenizerInputError
  ) {
    return respond(400, error.message, 'invalid_request_error', null, 'invalid_value');
  }
  if (error instanceof BatchQueueFullError) {
    return {
      ...respond(429, error.message, 'rate_limit_error', null, 'queue_full'),
      headers: { 'retry-after': `${RETRY_AFTER_SECONDS}` },
    };
  }
  if (error instanceof GenerationAbortedError && error.reason instanceof DeadlineExceeded) {
    return respond(504, error.reason.message, 'timeout_error', null, 'deadline_exceeded');
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    const message =
      fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'the request body is too large'
        : `invalid request body: ${fastifyError.message}`;
    return respond(
      fastifyError.statusCode,
      message,
      'invalid_request_error',
      'body',
      fastifyError.code ?? null,
    );
  }
  return respond(500, error instanceof Error ? error.message : String(error), 'server_error', null, null);
}

function respond(
  status: number,
  message: string,
  type: string,
  param: string | null,
  code: string | null,
): ErrorResponse {
  return { status, headers: {}, body: { error: { message, type, param, code } } };
}
