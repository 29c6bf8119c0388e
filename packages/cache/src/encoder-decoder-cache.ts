import type * as tf from '@tensorflow/tfjs-core';
import {
  aliasBlock,
  blockBytes,
  blockLength,
  disposeBlock,
  gatherBlockRows,
  type KeyValueBlock,
  keepBlock,
} from './block-list.js';
import { checkKeyValue, checkLayerIndex, checkReorderIndices } from './cache-arguments.js';
import type { DecoderCache, KeyValueBlocks, LayerCache } from './cache-types.js';
import { CacheArgumentError, CrossAttentionCacheError } from './errors.js';

/** Options of {@link EncoderDecoderCache}. */
export interface EncoderDecoderCacheOptions {
  /**
   * Reorder the cross-attention keys/values too (default false). Leaving it off is right, and saves a
   * gather per layer per step, when the cross cache was built from encoder states already expanded
   * to batch × beams and reorder indices stay within each item's group of beams: the rows of a group
   * are then identical, so reordering them would change nothing. Turn it on when the rows differ.
   */
  reorderCross?: boolean;
}

/**
 * The cache of an encoder-decoder model (HF's `EncoderDecoderCache`): a self-attention cache that
 * grows every step (any decoder cache) and, per layer, cross-attention keys/values computed once
 * from the encoder output. `layer(i)` and `getSeqLength` are the self-attention ones.
 */
export class EncoderDecoderCache implements DecoderCache {
  readonly reorderCross: boolean;
  private readonly crossBlocks: (KeyValueBlock | undefined)[];

  constructor(
    readonly selfAttention: DecoderCache,
    options?: EncoderDecoderCacheOptions,
  ) {
    this.reorderCross = options?.reorderCross ?? false;
    this.crossBlocks = Array.from({ length: selfAttention.numLayers }, () => undefined);
  }

  get numLayers(): number {
    return this.selfAttention.numLayers;
  }

  /** The self-attention cache of layer `layerIndex`. */
  layer(layerIndex: number): LayerCache {
    return this.selfAttention.layer(layerIndex);
  }

  /** Whether layer `layerIndex` already holds its cross-attention keys/values. */
  isCrossFilled(layerIndex: number): boolean {
    return (
      this.crossBlocks[checkLayerIndex(layerIndex, this.numLayers, 'EncoderDecoderCache.isCrossFilled')] !==
      undefined
    );
  }

  /**
   * Stores layer `layerIndex`'s cross-attention keys/values, `[batch, kvHeads, sourceTokens, headDim]`
   * (projections of the encoder output), once; returns them as `cross(layerIndex)` would.
   */
  setCross(layerIndex: number, key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
    const where = 'EncoderDecoderCache.setCross';
    checkLayerIndex(layerIndex, this.numLayers, where);
    checkKeyValue(key, value, undefined, where);
    if (this.crossBlocks[layerIndex]) {
      throw new CrossAttentionCacheError(
        `${where}: layer ${layerIndex} already holds its cross-attention keys/values (they are computed once)`,
      );
    }
    this.crossBlocks[layerIndex] = keepBlock(aliasBlock({ key, value }));
    return this.cross(layerIndex);
  }

  /** Layer `layerIndex`'s cross-attention keys/values as one block (`keyStart` 0). */
  cross(layerIndex: number): KeyValueBlocks {
    const where = 'EncoderDecoderCache.cross';
    const block = this.crossBlocks[checkLayerIndex(layerIndex, this.numLayers, where)];
    if (!block) {
      throw new CrossAttentionCacheError(
        `${where}: layer ${layerIndex} has no cross-attention keys/values yet`,
      );
    }
    return { keys: [block.key], values: [block.value], keyStart: 0, keyLength: blockLength(block) };
  }

  /** Self-attention tokens seen by layer `layerIndex` (default 0). */
  getSeqLength(layerIndex = 0): number {
    return this.selfAttention.getSeqLength(layerIndex);
  }

  /** Crops the self-attention cache; cross-attention keys/values stay as they are. */
  crop(length: number): void {
    this.selfAttention.crop(length);
  }

  /** The self-attention cache's smallest crop length. */
  minCropLength(): number {
    return this.selfAttention.minCropLength();
  }

  /**
   * Reorders the self-attention cache, and the cross-attention one only with `reorderCross`
   * (see {@link EncoderDecoderCacheOptions}). Without it the indices must keep the batch size of the
   * cross cache.
   */
  reorder(indices: readonly number[]): void {
    const where = 'EncoderDecoderCache.reorder';
    for (const block of this.crossBlocks) {
      if (!block) continue;
      const crossRows = block.key.shape[0];
      if (this.reorderCross) {
        checkReorderIndices(indices, crossRows, where);
      } else if (indices.length !== crossRows) {
        throw new CacheArgumentError(
          `${where}: ${indices.length} reorder indices for a cross-attention cache of ${crossRows} rows; fill it ` +
            'from encoder states expanded to batch × beams, or create the cache with reorderCross: true',
        );
      }
    }
    this.selfAttention.reorder(indices);
    if (!this.reorderCross) return;
    this.crossBlocks.forEach((block, layerIndex) => {
      if (!block) return;
      this.crossBlocks[layerIndex] = keepBlock(gatherBlockRows(block, indices));
      disposeBlock(block);
    });
  }

  /** Exact bytes of every tensor held, self- and cross-attention. */
  bytes(): number {
    const crossBytes = this.crossBlocks.reduce((total, block) => total + (block ? blockBytes(block) : 0), 0);
    return this.selfAttention.bytes() + crossBytes;
  }

  dispose(): void {
    this.selfAttention.dispose();
    for (const block of this.crossBlocks) if (block) disposeBlock(block);
    this.crossBlocks.fill(undefined);
  }
}
