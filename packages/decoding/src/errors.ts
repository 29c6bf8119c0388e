import { TsformerError } from '@tsformer/core-tensor';

/**
 * An invalid generation parameter, in a GenerationConfig layer or a processor's arguments. `field`
 * is the camelCase option name; the message also gives Hugging Face's snake_case name.
 */
export class GenerationConfigError extends TsformerError {
  override name = 'GenerationConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Inputs `generate` cannot run on: ragged or out-of-vocabulary ids, a prompt longer than `maxLength`, ... */
export class GenerationInputError extends TsformerError {
  override name = 'GenerationInputError';
}

/**
 * A generation stopped before its end: its `signal` was aborted (`reason` is `signal.reason`, as a
 * DOM `AbortError` carries it) or `releaseGenerations` freed it when its model was disposed. The
 * cache and every other tensor of the generation are freed before this is thrown.
 */
export class GenerationAbortedError extends TsformerError {
  override name = 'GenerationAbortedError';
  constructor(
    /** Why: the signal's `reason`, or a sentence when the model was disposed. */
    readonly reason: unknown,
  ) {
    super(`generation aborted: ${describeReason(reason)}`);
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  return reason === undefined ? 'no reason given' : String(reason);
}

/** The batching scheduler's queue is full: the request was not taken (a server answers 429). */
export class BatchQueueFullError extends TsformerError {
  override name = 'BatchQueueFullError';
  constructor(readonly maxQueue: number) {
    super(`the generation queue is full (${maxQueue} requests waiting): retry later`);
  }
}
