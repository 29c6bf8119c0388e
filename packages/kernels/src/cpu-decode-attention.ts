import * as tf from '@tensorflow/tfjs-core';
import { lineBytes, readCpuValues } from './cpu-values.js';
import type { KernelPool } from './kernel-pool.js';

/** One decode step's attention, checked by the caller (@tsformer/attention's `decodeAttention`). */
export interface DecodeAttentionCall {
  /** `[batch, heads, 1, headDim]`. */
  query: tf.Tensor;
  /** Consecutive blocks of keys and values, each `[batch, kvHeads, length, headDim]`; kvHeads divides heads. */
  keys: readonly tf.Tensor[];
  values: readonly tf.Tensor[];
  /** Additive `[batch or 1, 1, 1, keyLength]`, or null. */
  mask: tf.Tensor | null;
  scale: number;
  /** Soft cap of the scaled scores (Gemma 2), or null. */
  softcap: number | null;
}

/** Bytes of one block-table entry: keys' address, values' address, length (three i32). */
const TABLE_ENTRY_BYTES = 12;

/**
 * The module's `decodeAttention` (assembly/decode-attention.ts) on the calling thread: scores, mask,
 * softmax and the weighted values of every row and head in one call, over the query, the blocks and
 * the mask copied into the pool's scratch (tfjs's heap is not the pool's). Returns the output
 * `[batch, heads, 1, headDim]` (float32, new).
 */
export function decodeAttentionOnCaller(pool: KernelPool, call: DecodeAttentionCall): tf.Tensor {
  const { query, keys, values, mask } = call;
  const [batch, heads, , headDim] = query.shape as [number, number, number, number];
  const kvHeads = keys[0]!.shape[1]!;
  const keyLength = keys.reduce((total, key) => total + key.shape[2]!, 0);
  const blockBytes = keys.map((key) => lineBytes(key.size));
  const sizes = [
    lineBytes(query.size), // query
    lineBytes(query.size), // output
    lineBytes(keyLength), // scores
    lineBytes(mask?.size ?? 0), // mask
    Math.ceil((keys.length * TABLE_ENTRY_BYTES) / 64) * 64, // block table
    ...blockBytes.flatMap((bytes) => [bytes, bytes]), // keys and values, block by block
  ];
  const scratch = pool.scratch(sizes.reduce((total, bytes) => total + bytes, 0));
  const offsets: number[] = [];
  sizes.reduce((at, bytes) => {
    offsets.push(at);
    return at + bytes;
  }, scratch);
  const [queryAt, outputAt, scoresAt, maskAt, tableAt] = offsets as [number, number, number, number, number];
  const memory = pool.heap.memory.buffer;
  const place = (at: number, tensor: tf.Tensor) =>
    new Float32Array(memory, at, tensor.size).set(readCpuValues(tensor));
  place(queryAt, query);
  if (mask) place(maskAt, mask);
  const table = new Int32Array(memory, tableAt, keys.length * 3);
  keys.forEach((key, index) => {
    const keyAt = offsets[5 + 2 * index]!;
    const valueAt = offsets[6 + 2 * index]!;
    place(keyAt, key);
    place(valueAt, values[index]!);
    table.set([keyAt, valueAt, key.shape[2]!], index * 3);
  });
  pool.callOnCaller(
    'decodeAttention',
    queryAt,
    tableAt,
    keys.length,
    mask ? maskAt : 0,
    mask && mask.shape[0]! > 1 ? keyLength : 0,
    outputAt,
    scoresAt,
    batch,
    heads,
    kvHeads,
    headDim,
    call.scale,
    call.softcap ?? 0,
  );
  return tf.tensor(
    new Float32Array(memory, outputAt, query.size).slice(),
    [batch, heads, 1, headDim],
    'float32',
  );
}
