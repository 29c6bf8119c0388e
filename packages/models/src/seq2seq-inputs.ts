import type * as tf from '@tensorflow/tfjs-core';
import { type Cache, EncoderDecoderCache } from '@tsformer/cache';
import { ModelInputError } from './errors.js';

/** `[batch, tokens]` int32 with at least one token, or a `ModelInputError` naming `name`. */
export function checkTokenIds(ids: tf.Tensor, name: string): asserts ids is tf.Tensor2D {
  if (ids.rank !== 2 || ids.dtype !== 'int32' || ids.shape[1]! < 1) {
    throw new ModelInputError(
      `${name} must be a [batch, tokens] int32 tensor with at least one token, got ${ids.dtype} [${ids.shape}]`,
    );
  }
}

/** A padding mask `[batch, sourceTokens]` matching the source, or a `ModelInputError`. */
export function checkSourceMask(
  mask: tf.Tensor | undefined,
  batchSize: number,
  sourceLength: number,
  name: string,
): void {
  if (
    mask !== undefined &&
    (mask.rank !== 2 || mask.shape[0] !== batchSize || mask.shape[1] !== sourceLength)
  ) {
    throw new ModelInputError(
      `${name} must be [batch=${batchSize}, source tokens=${sourceLength}], got [${mask.shape}]`,
    );
  }
}

/** Encoder states `[batch, sourceTokens, dModel]` for `batchSize` decoder rows, or a `ModelInputError`. */
export function checkEncoderStates(
  states: tf.Tensor,
  batchSize: number,
  dModel: number,
): asserts states is tf.Tensor3D {
  if (states.rank !== 3 || states.shape[0] !== batchSize || states.shape[2] !== dModel) {
    throw new ModelInputError(
      `encoderHiddenStates must be [batch=${batchSize}, source tokens, dModel=${dModel}], got [${states.shape}]`,
    );
  }
}

/** The cache as the `EncoderDecoderCache` of `numLayers` layers that `createCache` makes, or a `ModelInputError`. */
export function asEncoderDecoderCache(
  cache: Cache | undefined,
  numLayers: number,
): EncoderDecoderCache | undefined {
  if (cache === undefined) return undefined;
  if (!(cache instanceof EncoderDecoderCache)) {
    throw new ModelInputError(
      `an encoder-decoder model needs the EncoderDecoderCache that model.createCache(...) makes, got a ${cache.constructor.name}`,
    );
  }
  if (cache.numLayers !== numLayers) {
    throw new ModelInputError(`the cache has ${cache.numLayers} layers but the decoder has ${numLayers}`);
  }
  return cache;
}
