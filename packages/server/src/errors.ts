import { TsformerError } from '@tsformer/core-tensor';

/**
 * A request the server refuses, with the HTTP status and the OpenAI error fields it answers with
 * (`{"error": {"message", "type", "param", "code"}}`): `param` names the offending body field.
 */
export class OpenAIRequestError extends TsformerError {
  override name = 'OpenAIRequestError';
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type = status === 404 ? 'not_found_error' : 'invalid_request_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** A body field that is missing or not what OpenAI's API accepts there (HTTP 400). */
export class InvalidFieldError extends OpenAIRequestError {
  override name = 'InvalidFieldError';
  constructor(field: string, message: string) {
    super(400, `${field}: ${message}`, field, 'invalid_request_error', 'invalid_value');
  }
}

/** A `model` the server does not serve (HTTP 404, as OpenAI answers). */
export class UnknownModelError extends OpenAIRequestError {
  override name = 'UnknownModelError';
  constructor(model: string, served: readonly string[]) {
    super(
      404,
      `the model '${model}' does not exist here (served: ${served.join(', ')})`,
      'model',
      'not_found_error',
      'model_not_found',
    );
  }
}

/** A model folder the server cannot serve (an encoder-decoder model, no tokenizer.json). */
export class UnservableModelError extends TsformerError {
  override name = 'UnservableModelError';
}
