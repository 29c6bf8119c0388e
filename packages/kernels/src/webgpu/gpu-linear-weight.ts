import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { Bf16CheckProgram, Bf16PackProgram } from './bf16-pack-program.js';
import type { GpuWeightDtype, WeightOrder } from './linear-program.js';
import { runProgram } from './webgpu-backend.js';

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
    const uniforms = [{ type: 'int32' as const, data: [elements] }];
    const [packed, lowBits] = tf.tidy(() => {
      const flat = tf.reshape(source, [elements]);
      return [
        tf.keep(runProgram(new Bf16PackProgram(elements), [flat], 'int32', uniforms)),
        tf.keep(runProgram(new Bf16CheckProgram(elements), [flat], 'int32', uniforms)),
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
