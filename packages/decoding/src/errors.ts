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
