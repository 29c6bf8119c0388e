// Attention of a decode step: one query per (row, head) over every cached key, in one call for all
// rows and heads. For query head h of row b (kv head h / groups, grouped-query attention reads its kv
// head's keys without copying them):
//   s[j] = cap(q · k[j] · scale) + mask[b, j],  p = softmax(s),  out = Σ_j p[j] · v[j]
// where cap is the identity, or tanh(x / softcap) · softcap (Gemma 2), as eager attention computes it.
// Keys and values come as blocks (a cache's, each [batch, kvHeads, length, headDim]) listed in a table;
// dot products four floats at a time with a scalar tail for head sizes that are not a multiple of 4.

import { sumLanes } from './lanes';

/** Bytes of one block-table entry: keys' address, values' address, length (three i32, at these offsets). */
const TABLE_ENTRY_BYTES: usize = 12;
const KEYS_AT: usize = 0;
const VALUES_AT: usize = 4;
const LENGTH_AT: usize = 8;

/** Σ a[d] · b[d] for d < size: four lanes, then the lanes summed, then the tail. */
@inline
function dot(a: usize, b: usize, size: i32): f32 {
  const whole = size & ~3;
  let lanes = f32x4.splat(0);
  for (let d = 0; d < whole; d += 4) {
    const offset = <usize>d << 2;
    lanes = f32x4.add(lanes, f32x4.mul(v128.load(a + offset), v128.load(b + offset)));
  }
  let sum = sumLanes(lanes);
  for (let d = whole; d < size; d++) {
    const offset = <usize>d << 2;
    sum += load<f32>(a + offset) * load<f32>(b + offset);
  }
  return sum;
}

/** out[d] += weight · v[d] for d < size. */
@inline
function addScaled(out: usize, v: usize, weight: f32, size: i32): void {
  const whole = size & ~3;
  const w = f32x4.splat(weight);
  for (let d = 0; d < whole; d += 4) {
    const offset = <usize>d << 2;
    v128.store(out + offset, f32x4.add(v128.load(out + offset), f32x4.mul(w, v128.load(v + offset))));
  }
  for (let d = whole; d < size; d++) {
    const offset = <usize>d << 2;
    store<f32>(out + offset, load<f32>(out + offset) + weight * load<f32>(v + offset));
  }
}

/**
 * output [batch, heads, headDim] = attention of query [batch, heads, headDim] over `blockCount` blocks:
 * `blocks` holds, per block, three i32 — its keys' address, its values' address (each [batch, kvHeads,
 * length, headDim]) and its length. `mask` is [rows, keyLength] additive (row b's at b · maskRowStride:
 * 0 when one row serves all), or 0 for none; `softcap` ≤ 0 for none. `scores` holds keyLength floats.
 */
export function decodeAttention(
  query: usize,
  blocks: usize,
  blockCount: i32,
  mask: usize,
  maskRowStride: i32,
  output: usize,
  scores: usize,
  batch: i32,
  heads: i32,
  kvHeads: i32,
  headDim: i32,
  scale: f32,
  softcap: f32,
): void {
  const groups = heads / kvHeads;
  const headBytes = <usize>headDim << 2;
  for (let b = 0; b < batch; b++) {
    const maskRow = mask + ((<usize>b * <usize>maskRowStride) << 2);
    for (let h = 0; h < heads; h++) {
      const kvRow = <usize>(b * kvHeads + h / groups);
      const q = query + <usize>(b * heads + h) * headBytes;
      // Scores, block by block, and their maximum.
      let maximum: f32 = -Infinity;
      let j = 0;
      for (let block = 0; block < blockCount; block++) {
        const entry = blocks + <usize>block * TABLE_ENTRY_BYTES;
        const length = load<i32>(entry, LENGTH_AT);
        let key = <usize>load<i32>(entry, KEYS_AT) + kvRow * <usize>length * headBytes;
        for (let t = 0; t < length; t++, j++, key += headBytes) {
          let s = dot(q, key, headDim) * scale;
          if (softcap > 0) s = Mathf.tanh(s / softcap) * softcap;
          if (mask != 0) s += load<f32>(maskRow + (<usize>j << 2));
          store<f32>(scores + (<usize>j << 2), s);
          maximum = max(maximum, s);
        }
      }
      // Weights e^(s − max), their sum, and the weighted values.
      const out = output + <usize>(b * heads + h) * headBytes;
      memory.fill(out, 0, headBytes);
      let total: f32 = 0;
      j = 0;
      for (let block = 0; block < blockCount; block++) {
        const entry = blocks + <usize>block * TABLE_ENTRY_BYTES;
        const length = load<i32>(entry, LENGTH_AT);
        let value = <usize>load<i32>(entry, VALUES_AT) + kvRow * <usize>length * headBytes;
        for (let t = 0; t < length; t++, j++, value += headBytes) {
          const weight = Mathf.exp(load<f32>(scores + (<usize>j << 2)) - maximum);
          total += weight;
          addScaled(out, value, weight, headDim);
        }
      }
      const inverse: f32 = 1 / total;
      for (let d = 0; d < headDim; d++) {
        const offset = <usize>d << 2;
        store<f32>(out + offset, load<f32>(out + offset) * inverse);
      }
    }
  }
}
