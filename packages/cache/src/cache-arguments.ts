import * as tf from '@tensorflow/tfjs-core';
import { CacheArgumentError, CacheShapeError } from './errors.js';

/** Tokens per block when none is given: small enough that a decode step copies little. */
export const DEFAULT_BLOCK_SIZE = 64;

/** Options shared by the block-based layer caches. */
export interface BlockOptions {
  /** Tokens per block that single-token appends fill before a new block starts (default 64). */
  blockSize?: number;
}

/** Throws unless `value` is an integer ≥ `minimum`; `name` and `where` go into the message. */
export function checkInteger(value: number, minimum: number, name: string, where: string): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new CacheArgumentError(`${where}: ${name} must be an integer ≥ ${minimum}, got ${value}`);
  }
  return value;
}

/** The validated block size of `options` (default {@link DEFAULT_BLOCK_SIZE}). */
export function resolveBlockSize(options: BlockOptions | undefined, where: string): number {
  return checkInteger(options?.blockSize ?? DEFAULT_BLOCK_SIZE, 1, 'blockSize', where);
}

/**
 * Checks one update's keys and values: both `[batch, kvHeads, newTokens, headDim]` float32 with the
 * same shape and at least one new token; when the cache already holds rows, batch, heads and
 * headDim must match them (`held`). Returns `newTokens`.
 */
export function checkKeyValue(
  key: tf.Tensor,
  value: tf.Tensor,
  held: readonly number[] | undefined,
  where: string,
): number {
  for (const [name, tensor] of [
    ['key', key],
    ['value', value],
  ] as const) {
    if (!(tensor instanceof tf.Tensor) || tensor.rank !== 4) {
      const shape = tensor instanceof tf.Tensor ? `[${tensor.shape}]` : typeof tensor;
      throw new CacheShapeError(
        `${where}: ${name} must be [batch, kvHeads, newTokens, headDim], got ${shape}`,
      );
    }
    if (tensor.dtype !== 'float32') {
      throw new CacheShapeError(`${where}: ${name} must be float32, got ${tensor.dtype}`);
    }
  }
  if (key.shape.join() !== value.shape.join()) {
    throw new CacheShapeError(`${where}: key [${key.shape}] and value [${value.shape}] differ in shape`);
  }
  return checkNewTokenShape(key.shape, held, where);
}

/**
 * Checks the shape `[batch, kvHeads, newTokens, headDim]` of one update's keys (and values): at least
 * one new token, and batch, heads and headDim of the rows the cache holds (`held`) when it holds any.
 * Returns `newTokens`.
 */
export function checkNewTokenShape(
  shape: readonly number[],
  held: readonly number[] | undefined,
  where: string,
): number {
  if (shape.length !== 4 || !shape.every(Number.isInteger)) {
    throw new CacheShapeError(
      `${where}: new keys must be [batch, kvHeads, newTokens, headDim], got [${shape}]`,
    );
  }
  const [batch, heads, newTokens, headDim] = shape as [number, number, number, number];
  if (newTokens < 1) throw new CacheShapeError(`${where}: key and value hold no new token ([${shape}])`);
  if (held && (held[0] !== batch || held[1] !== heads || held[3] !== headDim)) {
    throw new CacheShapeError(
      `${where}: new keys [${shape}] do not fit the cached [${held}] ` +
        '(batch, kvHeads and headDim must stay the same between steps)',
    );
  }
  return newTokens;
}

/** Throws unless `layerIndex` names one of `numLayers` layers. */
export function checkLayerIndex(layerIndex: number, numLayers: number, where: string): number {
  if (!Number.isInteger(layerIndex) || layerIndex < 0 || layerIndex >= numLayers) {
    throw new CacheArgumentError(
      `${where}: layer index ${layerIndex} is outside the cache's ${numLayers} layers`,
    );
  }
  return layerIndex;
}

/** Throws unless `length` is a valid crop length (an integer ≥ 0). */
export function checkCropLength(length: number, where: string): number {
  return checkInteger(length, 0, 'crop length', where);
}

/**
 * Checks beam-search reorder indices against a cache of `batch` rows: a non-empty array of integers
 * in [0, batch).
 */
export function checkReorderIndices(indices: readonly number[], batch: number, where: string): void {
  if (!Array.isArray(indices) || indices.length < 1) {
    throw new CacheArgumentError(`${where}: reorder indices must be a non-empty array of row numbers`);
  }
  const invalid = indices.find((row) => !Number.isInteger(row) || row < 0 || row >= batch);
  if (invalid !== undefined) {
    throw new CacheArgumentError(
      `${where}: reorder index ${invalid} is outside the cache's ${batch} batch row(s)`,
    );
  }
}
