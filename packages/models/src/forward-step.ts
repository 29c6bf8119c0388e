import * as tf from '@tensorflow/tfjs-core';
import { buildAttentionMask, storeKeyValues } from '@tsformer/attention';
import type { DecoderCache, KeyValueBlocks, LayerCache } from '@tsformer/cache';
import { ModelInputError } from './errors.js';

export interface ForwardStepOptions {
  /** `[batch, pastTokens + newTokens]`: 1 for real tokens, 0 for (left) padding. */
  attentionMask?: tf.Tensor2D;
  /** `[batch, newTokens]` int32 absolute positions; default `past … past + newTokens - 1`. */
  positionIds?: tf.Tensor2D;
  /** The largest of `positionIds`; required with them (a forward never reads tensors back). */
  maxPosition?: number;
  /** One layer cache per layer, grown in place. */
  cache?: DecoderCache;
  /** `[heads]` (every layer) or `[layers, heads]`: multiplies each head's attention probabilities. */
  headMask?: tf.Tensor;
  /** Also return every layer's attention probabilities. */
  outputAttentions?: boolean;
}

/**
 * What every layer of one stack's forward pass shares (HF's `cache_position`, `position_ids` and the
 * masks of `create_causal_mask` / `create_sliding_window_causal_mask`): where the new tokens sit (past
 * length, positions), the cache, the head masks, and the additive attention masks, built once per
 * distinct (key range, sliding window) and reused by every layer that needs the same one. A causal
 * step serves a decoder, a bidirectional one (`causal: false`) an encoder.
 *
 * Attention reaches the cache only through `keyValues` (or a fused op given `layerCache`). Create a step inside the forward's `tf.tidy`:
 * the masks and positions it makes belong to that scope.
 */
export class ForwardStep {
  readonly batchSize: number;
  readonly queryLength: number;
  /** Tokens already in the cache: the absolute position of the first new token's slot. */
  readonly pastLength: number;
  /** `[batch, newTokens]` int32. */
  readonly positionIds: tf.Tensor2D;
  /** The largest position id: the caller's `maxPosition`, or the last default position. */
  readonly maxPosition: number;
  readonly outputAttentions: boolean;
  /** Number of layers of the stack (and of its cache). */
  readonly numLayers: number;
  private readonly cache: DecoderCache | undefined;
  private readonly attentionMask: tf.Tensor2D | undefined;
  private readonly headMasks: (tf.Tensor1D | null)[];
  private readonly sharedValues = new Map<string, unknown>();

  /**
   * `inputIds` `[batch, newTokens]` int32; `layerHeads` the attention heads of each layer (what head
   * masks are shaped by); `causal` false for an encoder (every query sees every real key).
   */
  constructor(
    inputIds: tf.Tensor2D,
    layerHeads: readonly number[],
    options: ForwardStepOptions = {},
    readonly causal = true,
  ) {
    if (inputIds.rank !== 2 || inputIds.dtype !== 'int32' || inputIds.shape[1] < 1) {
      throw new ModelInputError(
        `inputIds must be a [batch, tokens] int32 tensor with at least one token, got ${inputIds.dtype} [${inputIds.shape}]`,
      );
    }
    [this.batchSize, this.queryLength] = inputIds.shape;
    this.numLayers = layerHeads.length;
    this.cache = options.cache;
    if (this.cache && this.cache.numLayers !== this.numLayers) {
      throw new ModelInputError(
        `the cache has ${this.cache.numLayers} layers but the model has ${this.numLayers}`,
      );
    }
    this.pastLength = this.cache?.getSeqLength() ?? 0;
    this.attentionMask = checkAttentionMask(
      options.attentionMask,
      this.batchSize,
      this.pastLength + this.queryLength,
    );
    this.outputAttentions = options.outputAttentions ?? false;
    if (options.positionIds) {
      const positions = options.positionIds;
      if (
        positions.rank !== 2 ||
        positions.dtype !== 'int32' ||
        `${positions.shape}` !== `${inputIds.shape}`
      ) {
        throw new ModelInputError(
          `positionIds must be an int32 tensor shaped like inputIds [${inputIds.shape}], got ${positions.dtype} [${positions.shape}]`,
        );
      }
      if (options.maxPosition === undefined) {
        throw new ModelInputError(
          'positionIds need maxPosition, their largest value: a forward never reads tensors back from the device',
        );
      }
      this.positionIds = positions;
      this.maxPosition = options.maxPosition;
    } else {
      const positions = tf.range(this.pastLength, this.pastLength + this.queryLength, 1, 'int32');
      this.positionIds = tf.tile(tf.expandDims(positions, 0), [this.batchSize, 1]) as tf.Tensor2D;
      this.maxPosition = this.pastLength + this.queryLength - 1;
    }
    this.headMasks = splitHeadMask(options.headMask, layerHeads);
  }

  /**
   * Stores this step's keys and values `[batch, kvHeads, newTokens, headDim]` in layer `layerIndex`'s
   * cache and returns what attention reads (without a cache: these keys and values as one block).
   */
  keyValues(layerIndex: number, key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
    return storeKeyValues(this.layerCache(layerIndex), key, value);
  }

  /** Layer `layerIndex`'s cache, or null without one: for a fused op that stores keys itself (`rotaryKeyValues`). */
  layerCache(layerIndex: number): LayerCache | null {
    return this.cache?.layer(layerIndex) ?? null;
  }

  /**
   * The additive mask `[batch or 1, 1, newTokens, keys]` for the keys attention reads (`keyValues`'
   * result): causal (or bidirectional), padding, and hiding keys `slidingWindow` or more positions back
   * when given; null when nothing is hidden (the common decode step, an unpadded encoder).
   */
  mask(keyValues: KeyValueBlocks, slidingWindow: number | null = null): tf.Tensor4D | null {
    const { keyStart, keyLength } = keyValues;
    return this.shared(`mask:${keyStart}:${keyLength}:${slidingWindow}`, () =>
      this.buildMask(keyStart, keyLength, slidingWindow),
    );
  }

  /** `[heads]` multipliers of layer `layerIndex`'s attention probabilities, or null. */
  headMask(layerIndex: number): tf.Tensor1D | null {
    return this.headMasks[layerIndex] ?? null;
  }

  /**
   * A value built once per forward and shared by every layer that asks for it under `key` (the masks;
   * T5's relative position bias for a key range). `build` runs inside the forward's tidy.
   */
  shared<T>(key: string, build: () => T): T {
    if (!this.sharedValues.has(key)) this.sharedValues.set(key, build());
    return this.sharedValues.get(key) as T;
  }

  private buildMask(keyStart: number, keyLength: number, slidingWindow: number | null): tf.Tensor4D | null {
    const queryStart = this.pastLength;
    const unpadded = this.attentionMask === undefined;
    const withinWindow = slidingWindow === null || keyLength <= slidingWindow;
    // One new token that may see every key it is given (the common decode step), or an unpadded
    // encoder: no mask at all.
    const seesAll = this.causal
      ? unpadded && this.queryLength === 1 && keyStart + keyLength === queryStart + 1 && withinWindow
      : unpadded && slidingWindow === null;
    if (seesAll) return null;
    return buildAttentionMask({
      batchSize: this.batchSize,
      queryStart,
      queryLength: this.queryLength,
      keyStart,
      keyLength,
      causal: this.causal,
      paddingMask: this.attentionMask,
      slidingWindow: slidingWindow ?? undefined,
    });
  }
}

function checkAttentionMask(
  attentionMask: tf.Tensor2D | undefined,
  batchSize: number,
  totalLength: number,
): tf.Tensor2D | undefined {
  if (attentionMask === undefined) return undefined;
  if (
    attentionMask.rank !== 2 ||
    attentionMask.shape[0] !== batchSize ||
    attentionMask.shape[1] !== totalLength
  ) {
    throw new ModelInputError(
      `attentionMask must be [batch=${batchSize}, past + new tokens=${totalLength}], got [${attentionMask.shape}]`,
    );
  }
  return attentionMask;
}

/** HF's `get_head_mask`: `[heads]` applies to every layer, `[layers, heads]` per layer. */
function splitHeadMask(
  headMask: tf.Tensor | undefined,
  layerHeads: readonly number[],
): (tf.Tensor1D | null)[] {
  if (headMask === undefined) return [];
  const numLayers = layerHeads.length;
  const uniform = layerHeads.every((heads) => heads === layerHeads[0]);
  const heads = layerHeads[0]!;
  if (uniform && headMask.rank === 1 && headMask.shape[0] === heads) {
    const mask = tf.cast(headMask, 'float32') as tf.Tensor1D;
    return Array.from({ length: numLayers }, () => mask);
  }
  if (uniform && headMask.rank === 2 && headMask.shape[0] === numLayers && headMask.shape[1] === heads) {
    return tf.unstack(tf.cast(headMask, 'float32')) as tf.Tensor1D[];
  }
  const expected = uniform
    ? `[${heads}] or [${numLayers}, ${heads}]`
    : 'one value per remaining head of each layer';
  throw new ModelInputError(`headMask must be ${expected}, got [${headMask.shape}]`);
}
