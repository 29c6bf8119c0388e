import type * as tf from '@tensorflow/tfjs-core';

/**
 * Keys and values as attention sees them after an update: consecutive blocks along the sequence
 * axis, each `[batch, kvHeads, blockLength, headDim]`. Blocks let a cache grow without copying the
 * whole history every decode step; attention works block by block (scores are concatenated, not keys).
 */
export interface KeyValueBlocks {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** Absolute position of the first key (0 unless a sliding window dropped the oldest ones). */
  keyStart: number;
  /** Total keys over all blocks (static caches include their not-yet-written slots). */
  keyLength: number;
}

/**
 * Where a caller writes this step's keys and values itself, in place (a fused kernel on a GPU backend):
 * the cache's own key and value tensors `[batch, kvHeads, blockLength, headDim]` and the position in them
 * of the first new token. The cache already counts the positions as written.
 */
export interface InPlaceSlot {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
  offset: number;
  /** What attention reads once the keys and values are written (as `update` returns it). */
  keyValues: KeyValueBlocks;
}

/** The cache of one attention layer. Attention touches the cache only through `update` (or `reserveInPlace`). */
export interface LayerCache {
  /**
   * Appends this step's keys and values (`[batch, kvHeads, newTokens, headDim]`) and returns what
   * attention must use. Call it inside the forward's `tf.tidy`: the cache keeps its own tensors.
   */
  update(key: tf.Tensor4D, value: tf.Tensor4D): KeyValueBlocks;
  /**
   * Instead of `update`, for a kernel that writes the new keys and values into the cache's tensors in
   * place: `shape` is this step's keys' (and values') `[batch, kvHeads, newTokens, headDim]`, checked
   * as `update` checks theirs, and the slot they go to comes back; undefined when this cache cannot hand one out for them (then call
   * `update`). Absent where a cache never writes in place (a dynamic cache grows by new tensors).
   * The slot's block tensors are the cache's own, shared with the `KeyValueBlocks` earlier steps
   * returned: after an in-place write those show the new positions too, so a caller that needs a
   * step's keys and values as they were must copy them before the next step.
   */
  reserveInPlace?(shape: readonly number[]): InPlaceSlot | undefined;
  /** Tokens seen so far (for a sliding window: including those it dropped). */
  getSeqLength(): number;
  /** Keeps only the first `length` tokens. */
  crop(length: number): void;
  /**
   * The smallest length other than 0 that `crop` accepts right now (a sliding window cannot give back
   * tokens it dropped; a crop to 0, starting over, is always possible). Lets a multi-layer cache refuse
   * a crop before touching any layer.
   */
  minCropLength?(): number;
  /**
   * Reorders (and may repeat) batch rows: row i becomes old row `indices[i]` (beam search). The
   * indices are plain numbers (the caller's bookkeeping has them), checked without a device read.
   */
  reorder(indices: readonly number[]): void;
  /**
   * Puts the batch rows of `other` (a layer cache of the same kind) into this one: row i of `other`
   * becomes row `rows[i]`, which replaces a held row when below the batch size (a finished request's
   * slot) and is appended otherwise (the appended ones must follow the held rows in turn; default:
   * all appended). The shorter is left-padded with zero positions so both hold the longer length
   * (continuous batching: the joined rows' attention masks hide the padding). Takes `other`'s
   * tensors, leaving it empty. Absent where a cache cannot join rows (a static cache counts positions
   * for every row at once).
   */
  joinRows?(other: LayerCache, rows?: readonly number[]): void;
  /** Drops the first `count` positions of every row (padding no row attends to any more). */
  dropStart?(count: number): void;
  /** Bytes held by this layer's tensors. */
  bytes(): number;
  dispose(): void;
}

/** What generation needs from any cache (decoder-only or encoder-decoder). */
export interface Cache {
  getSeqLength(layerIndex?: number): number;
  /** Keeps only the first `length` tokens; 0 always works (starting over). */
  crop(length: number): void;
  /** The smallest length other than 0 that `crop` accepts now (0 when any length is fine). */
  minCropLength(): number;
  reorder(indices: readonly number[]): void;
  /** Whether `joinRows` and `dropStart` work on this cache (every layer can join rows). */
  canJoinRows?(): boolean;
  /** As `LayerCache.joinRows`, for every layer: `other` must be a cache of the same layout. */
  joinRows?(other: Cache, rows?: readonly number[]): void;
  /** As `LayerCache.dropStart`, for every layer. */
  dropStart?(count: number): void;
  bytes(): number;
  dispose(): void;
}

/** A cache with one `LayerCache` per decoder layer: attention layer `i` calls `layer(i).update(...)`. */
export interface DecoderCache extends Cache {
  readonly numLayers: number;
  layer(layerIndex: number): LayerCache;
}
