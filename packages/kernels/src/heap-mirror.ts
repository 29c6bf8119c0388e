import type * as tf from '@tensorflow/tfjs-core';
import { readCpuValues } from './cpu-values.js';
import { KernelPoolError } from './errors.js';
import type { SharedHeap } from './shared-heap.js';

/** Copies made between two sweeps at least, so that a mirror of few tensors does not sweep on every copy. */
const MIN_COPIES_BETWEEN_SWEEPS = 8;

interface MirroredTensor {
  /** The data the copy was made from: a tensor that points at other data since (a variable) is copied again. */
  dataId: object;
  offset: number;
}

/**
 * Copies of float32 tensors in the kernel pool's heap, made once per tensor and kept while the tensor
 * lives: a KV cache's full blocks stay the same tensors from step to step, so a decode step's attention
 * copies only the block that changed (≤ one block per layer) instead of the whole cache every layer
 * (tfjs's wasm heap is not the pool's, so a kernel cannot read tfjs's tensors in place). Relies on tfjs's
 * contract that a tensor's data never changes in place. The cost is a second copy of what attention
 * reads, in the pool's heap, until a sweep sees the tensors disposed: `offsetOf` sweeps once the copies
 * made since the last sweep outnumber those the last sweep left (at least `MIN_COPIES_BETWEEN_SWEEPS`),
 * so a sweep's cost is spread over as many copies and the copies of disposed tensors never outnumber
 * the live ones by much; and it sweeps before it gives up on a full heap.
 */
export class HeapMirror {
  private readonly copies = new Map<tf.Tensor, MirroredTensor>();
  private copiesSinceSweep = 0;
  /** How many copies the last sweep kept (the live ones then). */
  private keptBySweep = 0;

  constructor(private readonly heap: SharedHeap) {}

  /**
   * The heap offset of `tensor`'s values, copied now if this mirror holds no current copy; undefined
   * when the heap cannot hold the copy (its 4 GiB are spent, mostly on packed weights).
   */
  offsetOf(tensor: tf.Tensor): number | undefined {
    const held = this.copies.get(tensor);
    if (held && held.dataId === tensor.dataId) return held.offset;
    if (held) {
      this.heap.release(held.offset);
      this.copies.delete(tensor);
    }
    if (++this.copiesSinceSweep > Math.max(this.keptBySweep, MIN_COPIES_BETWEEN_SWEEPS)) this.sweep();
    let offset = this.allocate(tensor.size * 4);
    if (offset === undefined) {
      this.sweep();
      offset = this.allocate(tensor.size * 4);
      if (offset === undefined) return undefined;
    }
    new Float32Array(this.heap.memory.buffer, offset, tensor.size).set(readCpuValues(tensor));
    this.copies.set(tensor, { dataId: tensor.dataId, offset });
    return offset;
  }

  /** Frees the copies of tensors disposed since. */
  sweep(): void {
    this.copiesSinceSweep = 0;
    for (const [tensor, { offset }] of this.copies) {
      if (!tensor.isDisposed) continue;
      this.heap.release(offset);
      this.copies.delete(tensor);
    }
    this.keptBySweep = this.copies.size;
  }

  /** A heap block of `bytes`, or undefined when the heap cannot grow to hold it. */
  private allocate(bytes: number): number | undefined {
    try {
      return this.heap.allocate(bytes);
    } catch (error) {
      if (error instanceof KernelPoolError) return undefined;
      throw error;
    }
  }

  /** Frees every copy. */
  clear(): void {
    for (const { offset } of this.copies.values()) this.heap.release(offset);
    this.copies.clear();
  }

  /** Bytes held by the copies of tensors still alive (the others are freed first). */
  bytes(): number {
    this.sweep();
    let total = 0;
    for (const tensor of this.copies.keys()) total += tensor.size * 4;
    return total;
  }
}
