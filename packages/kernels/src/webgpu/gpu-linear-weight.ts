import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { BF16_CHECK, BF16_PACK, bf16CheckWorkgroups, bf16PackWorkgroups } from './bf16-pack-program.js';
import { dispatchKernel } from './fast-dispatch.js';
import type { GpuWeightDtype, WeightOrder } from './linear-program.js';

/**
 * A linear weight as the WebGPU kernel reads it: the parameter's own float32 tensor (no copy) in its
 * stored order, and, once a check on the GPU has shown that every value is a bfloat16 value (a bf16
 * checkpoint widened to float32 at load), a 16-bit copy that halves the bytes each decode step reads.
 * The check's one read-back is asynchronous: until it resolves the kernel reads float32, which gives
 * the same results (the same values), so nothing waits for it. When a value is not bf16 the copy is
 * freed and float32 stays.
 */
export class GpuLinearWeight {
  readonly order: WeightOrder;
  private packed: tf.Tensor | undefined;
  private verified = false;
  private disposed = false;

  constructor(
    private readonly weight: Parameter,
    checkpointOrder: WeightOrder,
    bf16: boolean,
  ) {
    const reversed: WeightOrder = checkpointOrder === 'out-in' ? 'in-out' : 'out-in';
    this.order = weight.transposed ? reversed : checkpointOrder;
    if (bf16) this.startBf16Copy();
  }

  /** What the kernel reads now, and how. */
  get current(): { tensor: tf.Tensor; dtype: GpuWeightDtype } {
    return this.verified && this.packed
      ? { tensor: this.packed, dtype: 'bf16' }
      : { tensor: this.weight.tensor, dtype: 'fp32' };
  }

  /** Resolves once the bf16 check is done: whether the 16-bit copy is in use. */
  ready: Promise<boolean> = Promise.resolve(false);

  dispose(): void {
    this.disposed = true;
    this.packed?.dispose();
    this.packed = undefined;
  }

  private startBf16Copy(): void {
    const source = this.weight.tensor;
    const elements = source.size;
    const [packed, lowBits] = tf.tidy(() => {
      const flat = tf.reshape(source, [elements]);
      const words = { shape: [Math.ceil(elements / 2)], dtype: 'int32' as const };
      const checks = { shape: [bf16CheckWorkgroups(elements)], dtype: 'int32' as const };
      return [
        tf.keep(dispatchKernel(BF16_PACK, [flat], [words], [elements], bf16PackWorkgroups(elements))[0]!),
        tf.keep(dispatchKernel(BF16_CHECK, [flat], [checks], [elements], bf16CheckWorkgroups(elements))[0]!),
      ];
    });
    this.packed = packed;
    this.ready = lowBits.data().then(
      (bits) => {
        lowBits.dispose();
        const exact = bits.every((word) => word === 0);
        if (this.disposed) return false;
        if (!exact) {
          this.packed?.dispose();
          this.packed = undefined;
        }
        this.verified = exact;
        return exact;
      },
      (error: unknown) => {
        lowBits.dispose();
        this.packed?.dispose();
        this.packed = undefined;
        throw error;
      },
    );
  }
}
