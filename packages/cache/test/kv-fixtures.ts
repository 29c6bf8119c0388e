// Test fixtures: keys/values whose every element names its row, head, absolute position and
// dimension, and an independent (plain-array) description of what a cache must return.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks, LayerCache } from '../src/cache-types.js';

export const HEADS = 2;
export const HEAD_DIM = 3;

/** Key element of row `row` (its identity, not its index), head `head`, position `position`, dim `dim`. */
export function keyAt(row: number, head: number, position: number, dim: number): number {
  return 1000 * position + 100 * row + 10 * head + dim + 1;
}

/** Value elements are the negated keys, so a key/value mix-up cannot pass. */
export function valueAt(row: number, head: number, position: number, dim: number): number {
  return -keyAt(row, head, position, dim);
}

/** Flat `[rows, HEADS, positions, HEAD_DIM]` data; a position of `null` is an unwritten (zero) slot. */
export function expectedData(
  positions: readonly (number | null)[],
  rows: readonly number[],
  element: (row: number, head: number, position: number, dim: number) => number,
): number[] {
  const data: number[] = [];
  for (const row of rows) {
    for (let head = 0; head < HEADS; head++) {
      for (const position of positions) {
        for (let dim = 0; dim < HEAD_DIM; dim++)
          data.push(position === null ? 0 : element(row, head, position, dim));
      }
    }
  }
  return data;
}

/** Consecutive positions `[start, start + count)`. */
export function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

/** New keys and values for `positions` of the given rows. */
export function tokens(
  positions: readonly number[],
  rows: readonly number[] = [0, 1],
): { key: tf.Tensor4D; value: tf.Tensor4D } {
  const shape: [number, number, number, number] = [rows.length, HEADS, positions.length, HEAD_DIM];
  return {
    key: tf.tensor4d(expectedData(positions, rows, keyAt), shape),
    value: tf.tensor4d(expectedData(positions, rows, valueAt), shape),
  };
}

/** What one update returned, read back inside the step's tidy. */
export interface Returned {
  keyStart: number;
  keyLength: number;
  blockLengths: number[];
  /** Tensor ids of the key blocks: an id seen in the previous step means that block was not copied. */
  keyIds: number[];
  keys: number[];
  values: number[];
}

function readAll(blocks: tf.Tensor4D[]): number[] {
  return Array.from(tf.concat(blocks, 2).dataSync());
}

/** Reads returned blocks; call inside the tidy of the step that produced them. */
export function read(blocks: KeyValueBlocks): Returned {
  return {
    keyStart: blocks.keyStart,
    keyLength: blocks.keyLength,
    blockLengths: blocks.keys.map((key) => key.shape[2]),
    keyIds: blocks.keys.map((key) => key.id),
    keys: readAll(blocks.keys),
    values: readAll(blocks.values),
  };
}

/** Runs `produce` inside a tidy (as a forward does) and reads what it returned before the tidy ends. */
export function readInTidy(produce: () => KeyValueBlocks): Returned {
  let returned: Returned | undefined;
  tf.tidy(() => {
    returned = read(produce());
  });
  return returned!;
}

/** One forward step as attention runs it: new keys made inside a tidy, the update, its use. */
export function step(layer: LayerCache, positions: readonly number[], rows?: readonly number[]): Returned {
  return readInTidy(() => {
    const { key, value } = tokens(positions, rows);
    return layer.update(key, value);
  });
}

/** Bytes of keys plus values for `positions` cached positions of `rows` rows. */
export function kvBytes(positions: number, rows = 2): number {
  return 2 * 4 * rows * HEADS * positions * HEAD_DIM;
}
