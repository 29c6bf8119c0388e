import type * as tf from '@tensorflow/tfjs-core';
import { buildPaddingMask, keyValueBlock } from '@tsformer/attention';
import type { EncoderDecoderCache, KeyValueBlocks } from '@tsformer/cache';
import { ForwardStep, type ForwardStepOptions } from './forward-step.js';

/** What an encoder-decoder's decoder step adds to a causal `ForwardStep`. */
export interface Seq2SeqDecoderStepOptions extends Omit<ForwardStepOptions, 'cache' | 'attentionMask'> {
  /** `[batch, source, hidden]`: what cross-attention reads. */
  encoderHiddenStates: tf.Tensor3D;
  /** `[batch, source]`, 1 real, 0 padding. */
  encoderAttentionMask?: tf.Tensor2D;
  /** Self-attention keys/values grow in it; cross-attention keys/values are stored once. */
  cache?: EncoderDecoderCache;
}

/**
 * A decoder step of an encoder-decoder model: the causal self-attention of `ForwardStep` (over the
 * cache's self-attention layers) plus what cross-attention needs, the encoder states, their padding
 * mask (built once) and the cross-attention keys/values, which reach the cache only through
 * `crossKeyValues`.
 */
export class Seq2SeqDecoderStep extends ForwardStep {
  readonly encoderHiddenStates: tf.Tensor3D;
  private readonly encoderAttentionMask: tf.Tensor2D | undefined;
  private readonly encoderDecoderCache: EncoderDecoderCache | undefined;

  constructor(
    decoderInputIds: tf.Tensor2D,
    layerHeads: readonly number[],
    options: Seq2SeqDecoderStepOptions,
  ) {
    const { encoderHiddenStates, encoderAttentionMask, cache, ...stepOptions } = options;
    super(decoderInputIds, layerHeads, { ...stepOptions, ...(cache && { cache: cache.selfAttention }) });
    this.encoderHiddenStates = encoderHiddenStates;
    this.encoderAttentionMask = encoderAttentionMask;
    this.encoderDecoderCache = cache;
  }

  /**
   * Layer `layerIndex`'s cross-attention keys/values: from the cache once it holds them, else
   * `project()`'s (`[batch, kvHeads, source, headDim]` each, from `encoderHiddenStates`), stored in the
   * cache when there is one.
   */
  crossKeyValues(
    layerIndex: number,
    project: () => { key: tf.Tensor4D; value: tf.Tensor4D },
  ): KeyValueBlocks {
    const cache = this.encoderDecoderCache;
    if (cache?.isCrossFilled(layerIndex)) return cache.cross(layerIndex);
    const { key, value } = project();
    return cache ? cache.setCross(layerIndex, key, value) : keyValueBlock(key, value);
  }

  /** The additive padding mask `[batch, 1, newTokens, source]` of cross-attention, or null without one. */
  crossMask(): tf.Tensor4D | null {
    const padding = this.encoderAttentionMask;
    if (padding === undefined) return null;
    return this.shared('cross-mask', () => buildPaddingMask(padding, this.queryLength));
  }
}
