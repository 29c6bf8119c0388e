import * as tf from '@tensorflow/tfjs-core';
import { checkReorderIndices } from './cache-arguments.js';
import type { KeyValueBlocks } from './cache-types.js';
import { CacheArgumentError, CacheShapeError } from './errors.js';

/** Keys and values of consecutive positions, each `[batch, kvHeads, length, headDim]`. */
export type KeyValueBlock = {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
};

const SEQUENCE_AXIS = 2;

/** A second handle on the block's data (a reshape to the same shape copies nothing). */
export function aliasBlock(block: KeyValueBlock): KeyValueBlock {
  return { key: tf.reshape(block.key, block.key.shape), value: tf.reshape(block.value, block.value.shape) };
}

/** Number of positions in a block. */
export function blockLength(block: KeyValueBlock): number {
  return block.key.shape[SEQUENCE_AXIS];
}

/** Positions `[start, start + length)` of a block (a copy). */
export function sliceBlock(block: KeyValueBlock, start: number, length: number): KeyValueBlock {
  const begin = [0, 0, start, 0];
  const size = [-1, -1, length, -1];
  return { key: tf.slice(block.key, begin, size), value: tf.slice(block.value, begin, size) };
}

/** The blocks joined along the sequence axis (a copy of all of them; give it at least two). */
export function concatBlocks(blocks: readonly KeyValueBlock[]): KeyValueBlock {
  const keys = blocks.map((block) => block.key);
  const values = blocks.map((block) => block.value);
  return { key: tf.concat(keys, SEQUENCE_AXIS), value: tf.concat(values, SEQUENCE_AXIS) };
}

/**
 * The block's batch rows `indices` (row i of the result is row `indices[i]`; the batch size may
 * change), a copy. Runs of consecutive indices are sliced and the slices concatenated: on the wasm
 * backend `tf.gather` along the batch axis is several times slower than slicing contiguous rows.
 */
export function gatherBlockRows(block: KeyValueBlock, indices: readonly number[]): KeyValueBlock {
  const runs = consecutiveRuns(indices);
  const rows = (tensor: tf.Tensor4D): tf.Tensor4D => {
    const pieces = runs.map(({ start, count }) => tf.slice(tensor, [start, 0, 0, 0], [count, -1, -1, -1]));
    return pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 0);
  };
  return tf.tidy(() => ({ key: rows(block.key), value: rows(block.value) }));
}

/** `indices` as maximal runs of consecutive values: [3, 4, 5, 0, 1] → {3, 3}, {0, 2}. */
function consecutiveRuns(indices: readonly number[]): { start: number; count: number }[] {
  const runs: { start: number; count: number }[] = [];
  for (const index of indices) {
    const last = runs[runs.length - 1];
    if (last && last.start + last.count === index) last.count += 1;
    else runs.push({ start: index, count: 1 });
  }
  return runs;
}

/**
 * `held` `[rows, heads, length, headDim]` with joining rows put in: joining row `replacing[i]` over
 * held row `targets[replacing[i]]` (one scatter), then joining rows `appended` after the held ones
 * (one concatenation). `joining` holds the same positions as `held`.
 */
function placeRows(
  held: tf.Tensor4D,
  joining: tf.Tensor4D,
  targets: readonly number[],
  replacing: readonly number[],
  appended: readonly number[],
): tf.Tensor4D {
  const rowsOf = (indices: readonly number[]): tf.Tensor4D =>
    indices.length === joining.shape[0] && indices.every((row, index) => row === index)
      ? joining
      : tf.gather(joining, tf.tensor1d([...indices], 'int32'));
  let placed = held;
  if (replacing.length > 0) {
    const places = tf.tensor2d(
      replacing.map((index) => targets[index]!),
      [replacing.length, 1],
      'int32',
    );
    placed = tf.tensorScatterUpdate(placed, places, rowsOf(replacing));
  }
  return appended.length > 0 ? tf.concat([placed, rowsOf(appended)], 0) : placed;
}

/**
 * Throws unless `targets` gives each of `joiningRows` rows its own place: a held row (below
 * `heldRows`) or the next rows after them, `heldRows`, `heldRows + 1`, … with none skipped.
 */
function checkJoinTargets(
  targets: readonly number[],
  joiningRows: number,
  heldRows: number,
  where: string,
): void {
  const appended = targets.filter((target) => target >= heldRows).sort((a, b) => a - b);
  const valid =
    targets.length === joiningRows &&
    targets.every((target) => Number.isInteger(target) && target >= 0) &&
    new Set(targets).size === targets.length &&
    appended.every((target, index) => target === heldRows + index);
  if (!valid) {
    throw new CacheArgumentError(
      `${where}: rows [${targets}] must name a distinct place for each of the ${joiningRows} joining rows: ` +
        `a held row below ${heldRows}, or ${heldRows}, ${heldRows + 1}, … in turn`,
    );
  }
}

/**
 * The blocks as one `length` positions long, zero positions in front: one concatenation (none when a
 * single block needs no padding).
 */
function paddedWhole(blocks: readonly KeyValueBlock[], length: number): KeyValueBlock {
  const [rows, heads, , headDim] = blocks[0]!.key.shape;
  const missing = length - blocks.reduce((total, block) => total + blockLength(block), 0);
  const zeros = (): tf.Tensor4D => tf.zeros([rows, heads, missing, headDim]);
  const pieces = missing > 0 ? [{ key: zeros(), value: zeros() }, ...blocks] : blocks;
  return pieces.length === 1 ? pieces[0]! : concatBlocks(pieces);
}

/** Exact bytes of a block's two float32 tensors. */
export function blockBytes(block: KeyValueBlock): number {
  return 4 * (block.key.size + block.value.size);
}

function toKeyValueBlocks(
  blocks: readonly KeyValueBlock[],
  keyStart: number,
  keyLength: number,
): KeyValueBlocks {
  return { keys: blocks.map((b) => b.key), values: blocks.map((b) => b.value), keyStart, keyLength };
}

/** Marks both tensors kept, so they outlive the tidy they were made in. */
export function keepBlock(block: KeyValueBlock): KeyValueBlock {
  return { key: tf.keep(block.key), value: tf.keep(block.value) };
}

/** Releases both tensors. */
export function disposeBlock(block: KeyValueBlock): void {
  block.key.dispose();
  block.value.dispose();
}

/**
 * The key/value blocks of one attention layer, oldest first. It owns what it stores: every stored
 * tensor is `tf.keep`-ed (so it outlives the caller's tidy) and every tensor it replaces is disposed
 * at once. A block replaced while the caller may still read it is handed out as an alias
 * (`dropOldest`): the alias lives in the caller's tidy and keeps the data alive until that tidy ends.
 */
export class BlockList {
  private blocks: KeyValueBlock[] = [];

  /** `blockSize`: how long `append` lets the last block grow before it starts a new one. */
  constructor(readonly blockSize: number) {}

  /** Positions held over all blocks. */
  get tokenCount(): number {
    return this.blocks.reduce((total, block) => total + blockLength(block), 0);
  }

  /** Number of blocks held. */
  get count(): number {
    return this.blocks.length;
  }

  /** `[batch, kvHeads, tokenCount, headDim]` of what is held; undefined while empty. */
  heldShape(): number[] | undefined {
    const first = this.blocks[0];
    return first && [first.key.shape[0], first.key.shape[1], this.tokenCount, first.key.shape[3]];
  }

  /** Block `index` (still owned by this list). */
  at(index: number): KeyValueBlock {
    const block = this.blocks[index];
    if (!block) throw new RangeError(`block ${index} of ${this.blocks.length}`);
    return block;
  }

  /** Stores `block` after the others and takes ownership of its tensors. */
  push(block: KeyValueBlock): void {
    this.blocks.push(keepBlock(block));
  }

  /** Stores `block` in place of block `index` (taking ownership) and disposes the old one. */
  replace(index: number, block: KeyValueBlock): void {
    const old = this.at(index);
    this.blocks[index] = keepBlock(block);
    disposeBlock(old);
  }

  /**
   * Appends new positions (the caller's tensors, stored through aliases so the caller may dispose
   * its own): concatenated into the last block while that stays within `blockSize` (a copy of at
   * most one block), otherwise stored as a block of their own, however long (a prefill, uncopied).
   */
  append(newTokens: KeyValueBlock): void {
    const last = this.blocks[this.blocks.length - 1];
    if (last && blockLength(last) + blockLength(newTokens) <= this.blockSize) {
      this.replace(this.blocks.length - 1, concatBlocks([last, newTokens]));
    } else {
      this.push(aliasBlock(newTokens));
    }
  }

  /**
   * Drops the oldest `count` positions and returns every position held before the drop, for the step
   * that still attends to them (`keyStart`: absolute position of the first). Blocks released or cut
   * come back as aliases owned by the caller's tidy, the others as the stored tensors. A cut block
   * keeps its tail as pieces of at most `blockSize`, so that later cuts copy at most one block.
   */
  dropOldest(count: number, keyStart: number): KeyValueBlocks {
    const before = [...this.blocks];
    const keyLength = this.tokenCount;
    const touched: KeyValueBlock[] = [];
    let remaining = count;
    while (remaining > 0) {
      const front = this.at(0);
      const length = blockLength(front);
      touched.push(aliasBlock(front));
      this.blocks.shift();
      if (length > remaining) this.blocks.unshift(...this.tailPieces(front, remaining));
      disposeBlock(front);
      remaining = Math.max(0, remaining - length);
    }
    return toKeyValueBlocks([...touched, ...before.slice(touched.length)], keyStart, keyLength);
  }

  /** The positions of `block` from `start` on, as kept pieces of at most `blockSize`. */
  private tailPieces(block: KeyValueBlock, start: number): KeyValueBlock[] {
    const pieces: KeyValueBlock[] = [];
    for (let begin = start; begin < blockLength(block); begin += this.blockSize) {
      const length = Math.min(this.blockSize, blockLength(block) - begin);
      pieces.push(keepBlock(sliceBlock(block, begin, length)));
    }
    return pieces;
  }

  /** Keeps the first `length` positions (copies at most the block the cut falls in). */
  truncate(length: number): void {
    let kept = 0;
    let index = 0;
    while (index < this.blocks.length && kept + blockLength(this.at(index)) <= length) {
      kept += blockLength(this.at(index));
      index += 1;
    }
    const dropped = this.blocks.splice(index);
    const cut = dropped[0];
    if (cut && length > kept) this.blocks.push(keepBlock(sliceBlock(cut, 0, length - kept)));
    for (const block of dropped) disposeBlock(block);
  }

  /**
   * Row `i` of every block becomes old row `indices[i]` (the batch size may change): a layer cache's
   * `reorder`. Indices are checked against the rows held; an empty cache has nothing to reorder.
   */
  gatherRows(indices: readonly number[], where: string): void {
    const held = this.heldShape();
    if (!held) return;
    checkReorderIndices(indices, held[0]!, where);
    this.blocks = this.blocks.map((block) => {
      const gathered = keepBlock(gatherBlockRows(block, indices));
      disposeBlock(block);
      return gathered;
    });
  }

  /**
   * Puts the batch rows of `other` into this list (continuous batching: prefilled requests join a
   * running batch). Row i of `other` becomes row `rows[i]`: an index below the rows held replaces that
   * row (a finished request's slot), the others are appended in order (default: all appended). The
   * shorter list is left-padded with zero positions, which the joined rows' attention masks must
   * hide, so both hold the longer length. Each held block is copied once (a scatter of the replacing
   * rows, or a concatenation of the appended ones) and keeps its length; when the joining rows are
   * longer, the held blocks first become one padded block. Takes ownership of `other`'s tensors and
   * leaves it empty. An empty list simply takes `other`'s blocks.
   */
  joinRows(other: BlockList, where: string, rows?: readonly number[]): void {
    const held = this.heldShape();
    const joining = other.heldShape();
    if (!joining) throw new CacheArgumentError(`${where}: the joining cache holds no token`);
    const heldRows = held?.[0] ?? 0;
    const targets = rows ?? Array.from({ length: joining[0]! }, (_, index) => heldRows + index);
    checkJoinTargets(targets, joining[0]!, heldRows, where);
    if (!held) {
      this.blocks = other.blocks;
      other.blocks = [];
      // Row targets[i] is joining row i: row r is joining row targets.indexOf(r).
      if (targets.some((target, index) => target !== index)) {
        this.gatherRows(
          targets.map((_, row) => targets.indexOf(row)),
          where,
        );
      }
      return;
    }
    if (held[1] !== joining[1] || held[3] !== joining[3]) {
      throw new CacheShapeError(
        `${where}: the joining cache's [${joining}] does not fit the held [${held}] (kvHeads and headDim must match)`,
      );
    }
    const length = Math.max(held[2]!, joining[2]!);
    // Joining rows that replace held rows, and those appended (in the order of their new rows).
    const replacing = targets.flatMap((target, index) => (target < heldRows ? [index] : []));
    const appended = targets
      .flatMap((target, index) => (target >= heldRows ? [index] : []))
      .sort((a, b) => targets[a]! - targets[b]!);
    const joined = tf.tidy(() => {
      const theirs = paddedWhole(other.blocks, length);
      const mine = length > held[2]! ? [paddedWhole(this.blocks, length)] : this.blocks;
      let start = 0;
      return mine.map((block) => {
        const blockTokens = blockLength(block);
        const part = blockTokens === length ? theirs : sliceBlock(theirs, start, blockTokens);
        start += blockTokens;
        return {
          key: placeRows(block.key, part.key, targets, replacing, appended),
          value: placeRows(block.value, part.value, targets, replacing, appended),
        };
      });
    });
    this.dispose();
    other.dispose();
    this.blocks = joined.map(keepBlock);
  }

  /** Drops the first `count` positions of every row (copies at most the block the cut falls in). */
  dropStart(count: number): void {
    if (count <= 0) return;
    // dropOldest hands back aliases for a step that still reads them; here nobody does.
    tf.tidy(() => {
      this.dropOldest(count, 0);
    });
  }

  /** What attention sees: the stored blocks themselves (no copy). */
  asKeyValueBlocks(keyStart: number): KeyValueBlocks {
    return toKeyValueBlocks(this.blocks, keyStart, this.tokenCount);
  }

  /** Exact bytes of every tensor held. */
  bytes(): number {
    return this.blocks.reduce((total, block) => total + blockBytes(block), 0);
  }

  /** Releases every tensor; the list is empty afterwards. */
  dispose(): void {
    for (const block of this.blocks) disposeBlock(block);
    this.blocks = [];
  }
}
