import type * as tf from '@tensorflow/tfjs-core';
import { BlockList } from './block-list.js';
import {
  type BlockOptions,
  checkCropLength,
  checkInteger,
  checkKeyValue,
  resolveBlockSize,
} from './cache-arguments.js';
import type { KeyValueBlocks, LayerCache } from './cache-types.js';
import { CacheArgumentError } from './errors.js';

/**
 * A layer cache that grows without bound (HF's `DynamicLayer`), stored as blocks: a decode step
 * concatenates its token into the last block while that is shorter than `blockSize`, otherwise
 * starts a new block, so a step copies at most one block; a prefill is stored as one block as it is.
 */
export class DynamicLayerCache implements LayerCache {
  private readonly blocks: BlockList;

  constructor(options?: BlockOptions) {
    this.blocks = new BlockList(resolveBlockSize(options, 'DynamicLayerCache'));
  }

  /** Returns every stored block; `keyStart` 0, `keyLength` the tokens seen including these. */
  update(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
    checkKeyValue(key, value, this.blocks.heldShape(), 'DynamicLayerCache.update');
    this.blocks.append({ key, value });
    return this.blocks.asKeyValueBlocks(0);
  }

  getSeqLength(): number {
    return this.blocks.tokenCount;
  }

  /** Keeps the first `length` tokens (a no-op when it holds no more than that). */
  crop(length: number): void {
    checkCropLength(length, 'DynamicLayerCache.crop');
    if (length < this.blocks.tokenCount) this.blocks.truncate(length);
  }

  minCropLength(): number {
    return 0;
  }

  reorder(indices: readonly number[]): void {
    this.blocks.gatherRows(indices, 'DynamicLayerCache.reorder');
  }

  /** Joins the rows of another dynamic layer cache, left-padding the shorter (see `LayerCache.joinRows`). */
  joinRows(other: LayerCache, rows?: readonly number[]): void {
    if (!(other instanceof DynamicLayerCache)) {
      throw new CacheArgumentError(
        'DynamicLayerCache.joinRows: the joining cache must be a DynamicLayerCache too',
      );
    }
    this.blocks.joinRows(other.blocks, 'DynamicLayerCache.joinRows', rows);
  }

  /** Drops the first `count` positions of every row. */
  dropStart(count: number): void {
    checkInteger(count, 0, 'count', 'DynamicLayerCache.dropStart');
    if (count > this.blocks.tokenCount) {
      throw new CacheArgumentError(
        `DynamicLayerCache.dropStart: cannot drop ${count} positions of ${this.blocks.tokenCount}`,
      );
    }
    this.blocks.dropStart(count);
  }

  bytes(): number {
    return this.blocks.bytes();
  }

  dispose(): void {
    this.blocks.dispose();
  }
}
