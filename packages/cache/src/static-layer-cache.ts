import * as tf from '@tensorflow/tfjs-core';
import { BlockList, blockLength, concatBlocks, type KeyValueBlock, sliceBlock } from './block-list.js';
import {
  type BlockOptions,
  checkCropLength,
  checkInteger,
  checkKeyValue,
  checkNewTokenShape,
  resolveBlockSize,
} from './cache-arguments.js';
import type { InPlaceSlot, KeyValueBlocks, LayerCache } from './cache-types.js';
import { CacheCapacityError } from './errors.js';

/**
 * A layer cache of fixed capacity (HF's `StaticLayer`): on the first update (when batch, heads and
 * headDim become known) it allocates `maxLength` zero-filled positions as blocks of `blockSize`;
 * each update writes its tokens at the next free positions by rebuilding only the blocks it touches
 * (a decode step copies one block). `update` always returns every block, `keyLength` = `maxLength`:
 * the causal mask hides the slots not yet written, exactly as with HF's StaticCache.
 */
export class StaticLayerCache implements LayerCache {
  private readonly blocks: BlockList;
  private written = 0;

  constructor(
    readonly maxLength: number,
    options?: BlockOptions,
  ) {
    checkInteger(maxLength, 1, 'maxLength', 'StaticLayerCache');
    this.blocks = new BlockList(resolveBlockSize(options, 'StaticLayerCache'));
  }

  /** Writes the new tokens at positions `[getSeqLength(), getSeqLength() + newTokens)`. */
  update(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks {
    const newTokens = checkKeyValue(key, value, this.blocks.heldShape(), 'StaticLayerCache.update');
    if (this.written + newTokens > this.maxLength) {
      throw new CacheCapacityError(this.maxLength, this.written, newTokens);
    }
    if (this.blocks.count === 0) this.allocate(key.shape);
    this.write(this.written, { key, value });
    this.written += newTokens;
    return this.blocks.asKeyValueBlocks(0);
  }

  /**
   * The block slot of this step's positions, for a kernel that writes them in place (a decode step on
   * webgpu): allocates on the first call like `update` and counts the positions as written; undefined
   * when they would span two blocks (a prefill: use `update`).
   */
  reserveInPlace(shape: readonly number[]): InPlaceSlot | undefined {
    const newTokens = checkNewTokenShape(shape, this.blocks.heldShape(), 'StaticLayerCache.reserveInPlace');
    if (this.written + newTokens > this.maxLength) {
      throw new CacheCapacityError(this.maxLength, this.written, newTokens);
    }
    if (this.blocks.count === 0) this.allocate(shape);
    const block = this.blocks.at(Math.floor(this.written / this.blocks.blockSize));
    const offset = this.written % this.blocks.blockSize;
    if (offset + newTokens > blockLength(block)) return undefined;
    this.written += newTokens;
    return { key: block.key, value: block.value, offset, keyValues: this.blocks.asKeyValueBlocks(0) };
  }

  /** Positions written so far. */
  getSeqLength(): number {
    return this.written;
  }

  /** Keeps the first `length` positions: the ones after it are zeroed and written again next. */
  crop(length: number): void {
    checkCropLength(length, 'StaticLayerCache.crop');
    const held = this.blocks.heldShape();
    if (!held || length >= this.written) return;
    const [batch, heads, , headDim] = held as [number, number, number, number];
    const zeros: [number, number, number, number] = [batch, heads, this.written - length, headDim];
    tf.tidy(() =>
      this.write(length, { key: tf.zeros<tf.Rank.R4>(zeros), value: tf.zeros<tf.Rank.R4>(zeros) }),
    );
    this.written = length;
  }

  minCropLength(): number {
    return 0;
  }

  reorder(indices: readonly number[]): void {
    this.blocks.gatherRows(indices, 'StaticLayerCache.reorder');
  }

  /** Bytes of the whole preallocated capacity (0 before the first update). */
  bytes(): number {
    return this.blocks.bytes();
  }

  dispose(): void {
    this.blocks.dispose();
    this.written = 0;
  }

  private allocate([batch, heads, , headDim]: readonly number[]): void {
    for (let start = 0; start < this.maxLength; start += this.blocks.blockSize) {
      const length = Math.min(this.blocks.blockSize, this.maxLength - start);
      const shape: [number, number, number, number] = [batch!, heads!, length, headDim!];
      this.blocks.push({ key: tf.zeros<tf.Rank.R4>(shape), value: tf.zeros<tf.Rank.R4>(shape) });
    }
  }

  /** Overwrites positions `[position, position + tokens length)`, rebuilding only the blocks touched. */
  private write(position: number, tokens: KeyValueBlock): void {
    const end = position + blockLength(tokens);
    let blockStart = 0;
    for (let index = 0; index < this.blocks.count; index++) {
      const block = this.blocks.at(index);
      const blockEnd = blockStart + blockLength(block);
      const from = Math.max(position, blockStart);
      const to = Math.min(end, blockEnd);
      if (from < to) {
        const rebuilt = tf.tidy(() =>
          overwrite(block, from - blockStart, sliceBlock(tokens, from - position, to - from)),
        );
        this.blocks.replace(index, rebuilt);
      }
      blockStart = blockEnd;
    }
  }
}

/** `block` with positions from `offset` on replaced by `part` (a copy of one block). */
function overwrite(block: KeyValueBlock, offset: number, part: KeyValueBlock): KeyValueBlock {
  const tailStart = offset + blockLength(part);
  const pieces = [
    ...(offset > 0 ? [sliceBlock(block, 0, offset)] : []),
    part,
    ...(tailStart < blockLength(block) ? [sliceBlock(block, tailStart, blockLength(block) - tailStart)] : []),
  ];
  return pieces.length === 1 ? part : concatBlocks(pieces);
}
