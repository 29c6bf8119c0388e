import * as tf from '@tensorflow/tfjs-core';
import { lineBytes, readCpuValues } from './cpu-values.js';
import { KernelArgumentError } from './errors.js';
import { HeapMirror } from './heap-mirror.js';
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

/** Bytes of one block-table entry: keys' address, values' address, length (three i32; TABLE_ENTRY_BYTES in assembly/decode-attention.ts). */
const TABLE_ENTRY_BYTES = 12;

/**
 * The module's `decodeAttention` (assembly/decode-attention.ts) on the calling thread: scores, mask,
 * softmax and the weighted values of every row and head in one call. Keys and values are read from
 * the pool heap's copies of the cache's blocks (`HeapMirror`: a block that stays the same tensor across
 * steps is copied once), the query and the mask from the pool's scratch.
 */
export class DecodeAttentionKernel {
  private readonly mirror: HeapMirror;

  constructor(private readonly pool: KernelPool) {
    this.mirror = new HeapMirror(pool.heap);
  }

  /**
   * The output `[batch, heads, 1, headDim]` (float32, new), or undefined when the pool's heap cannot
   * hold the copies of the blocks (the copies are dropped then; the caller runs the portable op).
   */
  attend(call: DecodeAttentionCall): tf.Tensor | undefined {
    checkDecodeAttentionCall(call);
    const { query, keys, values, mask } = call;
    const [batch, heads, , headDim] = query.shape as [number, number, number, number];
    const kvHeads = keys[0]!.shape[1]!;
    const keyLength = keys.reduce((total, key) => total + key.shape[2]!, 0);
    const blocks: number[] = [];
    for (const [index, key] of keys.entries()) {
      const keysAt = this.mirror.offsetOf(key);
      const valuesAt = this.mirror.offsetOf(values[index]!);
      if (keysAt === undefined || valuesAt === undefined) {
        this.mirror.clear();
        return undefined;
      }
      blocks.push(keysAt, valuesAt, key.shape[2]!);
    }
    // Scratch: query | output | scores | mask | block table.
    const queryBytes = lineBytes(query.size);
    const queryAt = this.pool.scratch(
      2 * queryBytes + lineBytes(keyLength) + lineBytes(mask?.size ?? 0) + keys.length * TABLE_ENTRY_BYTES,
    );
    const outputAt = queryAt + queryBytes;
    const scoresAt = outputAt + queryBytes;
    const maskAt = scoresAt + lineBytes(keyLength);
    const tableAt = maskAt + lineBytes(mask?.size ?? 0);
    const memory = this.pool.heap.memory.buffer;
    new Float32Array(memory, queryAt, query.size).set(readCpuValues(query));
    if (mask) new Float32Array(memory, maskAt, mask.size).set(readCpuValues(mask));
    new Int32Array(memory, tableAt, keys.length * 3).set(blocks);
    this.pool.callOnCaller(
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
    const output = new Float32Array(memory, outputAt, query.size).slice();
    return tf.tensor(output, [batch, heads, 1, headDim], 'float32');
  }

  /** Bytes of the heap copies of the blocks still alive among those attended to (a disposed block's copy is freed first). */
  mirroredBytes(): number {
    return this.mirror.bytes();
  }

  /** Frees the heap copies (the kernel stays usable: the next call copies again). */
  release(): void {
    this.mirror.clear();
  }
}

/** Throws `KernelArgumentError` unless `call`'s tensors are float32 and their shapes fit together. */
function checkDecodeAttentionCall({ query, keys, values, mask }: DecodeAttentionCall): void {
  const fail = (message: string) => {
    throw new KernelArgumentError(`DecodeAttentionKernel.attend: ${message}`);
  };
  const float32 = [query, ...keys, ...values, ...(mask ? [mask] : [])].every((t) => t.dtype === 'float32');
  if (!float32) fail('query, keys, values and mask must be float32');
  if (query.rank !== 4 || query.shape[2] !== 1)
    fail(`query must be [batch, heads, 1, headDim], got [${query.shape}]`);
  if (keys.length === 0 || keys.length !== values.length) {
    fail(`needs as many value blocks as key blocks, at least one; got ${keys.length} and ${values.length}`);
  }
  const [batch, heads, , headDim] = query.shape;
  const kvHeads = keys[0]!.shape[1]!;
  if (kvHeads === 0 || heads! % kvHeads !== 0)
    fail(`keys' ${kvHeads} heads do not divide the query's ${heads}`);
  for (const [index, key] of keys.entries()) {
    const value = values[index]!;
    if (key.rank !== 4 || key.shape[0] !== batch || key.shape[1] !== kvHeads || key.shape[3] !== headDim) {
      fail(`keys[${index}] is [${key.shape}], not [${batch}, ${kvHeads}, length, ${headDim}]`);
    }
    if (value.shape.join() !== key.shape.join())
      fail(`values[${index}] is [${value.shape}], keys[${index}] [${key.shape}]`);
  }
  const keyLength = keys.reduce((total, key) => total + key.shape[2]!, 0);
  if (mask) {
    const [rows, one, query1, length] = mask.shape;
    if (
      mask.rank !== 4 ||
      (rows !== 1 && rows !== batch) ||
      one !== 1 ||
      query1 !== 1 ||
      length !== keyLength
    ) {
      fail(`mask is [${mask.shape}], not [${batch} or 1, 1, 1, ${keyLength}]`);
    }
  }
}
