import * as tf from '@tensorflow/tfjs-core';
import { buildAttentionMask, type KeyValuePair } from '@tsformer/attention';
import type { DecoderCache, KeyValueBlocks } from '@tsformer/cache';
import { TsformerError } from '@tsformer/core-tensor';

/** Inputs of a forward pass that do not fit the model: the message says which and why. */
export class ModelInputError extends TsformerError {
  override name = 'ModelInputError';
}

export interface DecoderStepOptions {
  /** `[batch, pastTokens + newTokens]`: 1 for real tokens, 0 for (left) padding. */
  attentionMask?: tf.Tensor2D;
  /** `[batch, newTokens]` int32 absolute positions; default `past … past + newTokens - 1`. */
  positionIds?: tf.Tensor2D;
  /** The largest of `positionIds` when the caller knows it (spares a device read each step). */
  maxPosition?: number;
  /** One layer cache per decoder layer, grown in place. */
  cache?: DecoderCache;
  /** `[heads]` (every layer) or `[layers, heads]`: multiplies each head's attention probabilities. */
  headMask?: tf.Tensor;
  /** Also return every layer's attention probabilities. */
  outputAttentions?: boolean;
}

/**
 * What every decoder layer of one forward pass shares: where the new tokens sit (past length,
 * positions), the cache, the head masks, and the additive attention masks, built once per distinct
 * (key range, sliding window) and reused by every layer that needs the same one.
 * Create it inside the forward's `tf.tidy`: the masks and positions it makes belong to that scope.
 */
export class DecoderStep {
  readonly batchSize: number;
  readonly queryLength: number;
  /** Tokens already in the cache: the absolute position of the first new token's slot. */
  readonly pastLength: number;
  /** `[batch, newTokens]` int32. */
  readonly positionIds: tf.Tensor2D;
  /** The largest position id when known without reading the ids back (default positions). */
  readonly maxPosition: number | undefined;
  readonly outputAttentions: boolean;
  private readonly cache: DecoderCache | undefined;
  private readonly attentionMask: tf.Tensor2D | undefined;
  private readonly headMasks: (tf.Tensor1D | null)[];
  private readonly masks = new Map<string, tf.Tensor4D | null>();

  constructor(
    inputIds: tf.Tensor2D,
    readonly numLayers: number,
    readonly numHeads: readonly number[],
    options: DecoderStepOptions = {},
  ) {
    if (inputIds.rank !== 2 || inputIds.dtype !== 'int32' || inputIds.shape[1] < 1) {
      throw new ModelInputError(
        `inputIds must be a [batch, tokens] int32 tensor with at least one token, got ${inputIds.dtype} [${inputIds.shape}]`,
      );
    }
    [this.batchSize, this.queryLength] = inputIds.shape;
    this.cache = options.cache;
    if (this.cache && this.cache.numLayers !== numLayers) {
      throw new ModelInputError(
        `the cache has ${this.cache.numLayers} layers but the model has ${numLayers}`,
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
      this.positionIds = positions;
      this.maxPosition = options.maxPosition;
    } else {
      const positions = tf.range(this.pastLength, this.pastLength + this.queryLength, 1, 'int32');
      this.positionIds = tf.tile(tf.expandDims(positions, 0), [this.batchSize, 1]) as tf.Tensor2D;
      this.maxPosition = this.pastLength + this.queryLength - 1;
    }
    this.headMasks = splitHeadMask(options.headMask, numLayers, numHeads);
  }

  /**
   * Stores this step's keys and values `[batch, kvHeads, newTokens, headDim]` in layer `layerIndex`'s
   * cache and returns what attention reads (just these keys and values without a cache).
   */
  keyValues(layerIndex: number, key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks | KeyValuePair {
    return this.cache ? this.cache.layer(layerIndex).update(key, value) : { key, value };
  }

  /**
   * The additive causal mask `[batch, 1, newTokens, keys]` for the keys attention reads (`keyValues`'
   * result), hiding keys `slidingWindow` or more positions back when given; null when nothing is hidden.
   */
  mask(keyValues: KeyValueBlocks | KeyValuePair, slidingWindow: number | null = null): tf.Tensor4D | null {
    const keyStart = 'keyStart' in keyValues ? keyValues.keyStart : 0;
    const keyLength = 'keyLength' in keyValues ? keyValues.keyLength : keyValues.key.shape[2];
    const id = `${keyStart}:${keyLength}:${slidingWindow}`;
    if (!this.masks.has(id)) this.masks.set(id, this.buildMask(keyStart, keyLength, slidingWindow));
    return this.masks.get(id)!;
  }

  /** `[heads]` multipliers of layer `layerIndex`'s attention probabilities, or null. */
  headMask(layerIndex: number): tf.Tensor1D | null {
    return this.headMasks[layerIndex] ?? null;
  }

  private buildMask(keyStart: number, keyLength: number, slidingWindow: number | null): tf.Tensor4D | null {
    const queryStart = this.pastLength;
    // One new token that may see every key it is given: no mask at all (the common decode step).
    const seesAll =
      this.attentionMask === undefined &&
      this.queryLength === 1 &&
      keyStart + keyLength === queryStart + 1 &&
      (slidingWindow === null || keyLength <= slidingWindow);
    if (seesAll) return null;
    return buildAttentionMask({
      batchSize: this.batchSize,
      queryStart,
      queryLength: this.queryLength,
      keyStart,
      keyLength,
      causal: true,
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
  numLayers: number,
  numHeads: readonly number[],
): (tf.Tensor1D | null)[] {
  if (headMask === undefined) return [];
  const uniform = numHeads.every((heads) => heads === numHeads[0]);
  const heads = numHeads[0]!;
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
