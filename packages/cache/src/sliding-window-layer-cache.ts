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
import { CacheArgumentError, CacheCropError } from './errors.js';

/**
 * A layer cache for sliding-window attention (HF's `DynamicSlidingWindowLayer`): it stores only the
 * last `window - 1` positions, because the next query attends to itself and the `window - 1` before
 * it. `update` returns the stored positions plus the new ones (all of them, so a prefill longer than
 * the window still attends correctly); `keyStart` is the absolute position of the first returned key
 * and the mask must hide keys more than `window - 1` positions before each query.
 *
 * A decode step copies at most two blocks: the last (gaining the new token) and the oldest (losing
 * its first token). A stored block longer than `blockSize` is split the first time it is cut.
 */
export class SlidingWindowLayerCache implements LayerCache {
  private readonly blocks: BlockList;
  private seen = 0;

  constructor(
    readonly window: number,
    options?: BlockOptions,
  ) {
    checkInteger(window, 1, 'window', 'SlidingWindowLayerCache');
    this.blocks = new BlockList(resolveBlockSize(options, 'SlidingWindowLayerCache'));
  }

  update(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
    checkKeyValue(key, value, this.blocks.heldShape(), 'SlidingWindowLayerCache.update');
    const keyStart = this.seen - this.blocks.tokenCount;
    this.seen += key.shape[2];
    this.blocks.append({ key, value });
    const excess = this.blocks.tokenCount - (this.window - 1);
    if (excess <= 0) return this.blocks.asKeyValueBlocks(keyStart);
    // The oldest positions leave storage but are still attended to in this step.
    return this.blocks.dropOldest(excess, keyStart);
  }

  /** Tokens seen, including those the window dropped. */
  getSeqLength(): number {
    return this.seen;
  }

  /**
   * Keeps the first `length` tokens. Once the window has dropped tokens, only no-op crops
   * (`length` ≥ tokens seen) and crops to 0 (starting over, which needs nothing dropped) are possible:
   * any other next step would need the dropped ones.
   */
  crop(length: number): void {
    checkCropLength(length, 'SlidingWindowLayerCache.crop');
    if (length >= this.seen) return;
    if (length > 0 && length < this.minCropLength()) {
      throw new CacheCropError(
        `SlidingWindowLayerCache.crop: cannot crop ${this.seen} tokens to ${length}: the window of ` +
          `${this.window} already dropped the oldest ${this.seen - this.blocks.tokenCount}, which the next steps would need`,
      );
    }
    this.blocks.truncate(length);
    this.seen = length;
  }

  /** 0 while nothing was dropped, else the tokens seen (then only a no-op crop or one to 0 is possible). */
  minCropLength(): number {
    return this.seen > this.blocks.tokenCount ? this.seen : 0;
  }

  reorder(indices: readonly number[]): void {
    this.blocks.gatherRows(indices, 'SlidingWindowLayerCache.reorder');
  }

  /**
   * Joins the rows of another sliding-window cache of the same window (see `LayerCache.joinRows`).
   * Positions count from the first of the longer cache's tokens: the shorter cache's rows are shifted
   * right (left-padded), so every row keeps its keys' distances to its queries and the window, which
   * the mask measures in those positions, hides the same keys for it as before. Both keep their
   * last positions; the one holding fewer (its rows have seen fewer tokens than the window keeps, so
   * the missing positions are padding) is padded with zeros in front.
   */
  joinRows(other: LayerCache, rows?: readonly number[]): void {
    if (!(other instanceof SlidingWindowLayerCache) || other.window !== this.window) {
      throw new CacheArgumentError(
        `SlidingWindowLayerCache.joinRows: the joining cache must be a SlidingWindowLayerCache of window ${this.window} too`,
      );
    }
    const seen = Math.max(this.seen, other.seen);
    this.blocks.joinRows(other.blocks, 'SlidingWindowLayerCache.joinRows', rows);
    this.seen = seen;
    other.seen = 0;
  }

  /** Drops the first `count` positions of every row (positions count from the new first one). */
  dropStart(count: number): void {
    checkInteger(count, 0, 'count', 'SlidingWindowLayerCache.dropStart');
    if (count > this.seen) {
      throw new CacheArgumentError(
        `SlidingWindowLayerCache.dropStart: cannot drop ${count} positions of ${this.seen}`,
      );
    }
    const heldStart = this.seen - this.blocks.tokenCount;
    this.blocks.dropStart(Math.max(0, count - heldStart));
    this.seen -= count;
  }

  bytes(): number {
    return this.blocks.bytes();
  }

  dispose(): void {
    this.blocks.dispose();
    this.seen = 0;
  }
}
