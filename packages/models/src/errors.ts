import { TsformerError } from '@tsformer/core-tensor';

// Every error @tsformer/models throws on purpose (all TsformerErrors: `TsformerError.isInstance` tells
// them from bugs across copies of the package).

/** An option of `savePretrained` that cannot be used (`maxShardSize`): the message names it. */
export class SaveOptionError extends TsformerError {
  override name = 'SaveOptionError';
}

/** A model-folder file that is missing or unreadable: the message names the file. */
export class ModelFileError extends TsformerError {
  override name = 'ModelFileError';
}

/**
 * A tokenizer.json or tokenizer_config.json that cannot be used: the message names the file and,
 * where one is to blame, the field (`decoder.decoders.1.type`).
 */
export class TokenizerFileError extends TsformerError {
  override name = 'TokenizerFileError';

  constructor(
    override readonly file: string,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}: ${field === undefined ? '' : `${field}: `}${detail}`);
  }
}

/** What a caller gave `decode` that is not a list of token ids. */
export class TokenizerInputError extends TsformerError {
  override name = 'TokenizerInputError';
}

/** A chat template that is missing, malformed or fails while rendering. */
export class ChatTemplateError extends TsformerError {
  override name = 'ChatTemplateError';
}

/** A `model_type` no registered family handles; the message lists the supported ones. */
export class UnknownModelTypeError extends TsformerError {
  override name = 'UnknownModelTypeError';
  constructor(
    readonly modelType: unknown,
    readonly supported: readonly string[],
  ) {
    super(
      modelType === undefined
        ? `model_type is missing; supported model types: ${supported.join(', ')}`
        : `unknown model_type ${JSON.stringify(modelType)}; supported model types: ${supported.join(', ')}`,
    );
  }
}

/** A GPT-2 feature this implementation does not provide (cross-attention). */
export class UnsupportedConfigError extends TsformerError {
  override name = 'UnsupportedConfigError';
}

/** Inputs of a forward pass that do not fit the model: the message says which and why. */
export class ModelInputError extends TsformerError {
  override name = 'ModelInputError';
}

/**
 * A model file that could not be downloaded: an HTTP error other than 404 (a missing file is a
 * ModelFileError, as on disk), a network failure or a body cut short. The message names the URL.
 */
export class ModelDownloadError extends ModelFileError {
  override name = 'ModelDownloadError';

  constructor(
    readonly url: string,
    /** The HTTP status, when the server answered. */
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`${url}: ${detail}`);
  }
}

/** A `fromPretrained` option that cannot be honoured where the model runs (a weight dtype off the CPU kernels). */
export class LoadOptionError extends TsformerError {
  override name = 'LoadOptionError';
}
