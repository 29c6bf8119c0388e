import * as tf from '@tensorflow/tfjs-core';
import type { Parameter, RestorableLayout } from '@tsformer/core-tensor';
import type { KernelPool } from './kernel-pool.js';
import { type LinearWeightLayout, linearFeatures, storedOrder } from './linear.js';
import { type PackedWeight, packWeight, type RawWeight } from './packed-weight.js';
import type { PackedDtype } from './weight-dtypes.js';

/** The key of a Parameter's packed layout (`Parameter.derived`, `assignLayout`). */
export const PACKED_LAYOUT_KEY = 'cpu-kernels:packed';

/** A linear weight's packed copy as a Parameter's derived layout: it can rebuild the stored tensor. */
export class PackedParameterLayout implements RestorableLayout {
  constructor(
    readonly packed: PackedWeight,
    /** The order of the parameter's stored tensor. */
    private readonly order: LinearWeightLayout,
  ) {}

  restore(): tf.Tensor {
    const { inFeatures, outFeatures } = this.packed;
    const shape = this.order === 'in-out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    return tf.tensor(this.packed.values(this.order), shape, 'float32');
  }

  dispose(): void {
    this.packed.free();
  }
}

/**
 * `weight`'s packed copy, made from its tensor on first use (fp32: the same values) and kept as a
 * derived layout until the weight is written. `read` gives the tensor's values without a device read.
 */
export function packedLinearWeight(
  pool: KernelPool,
  weight: Parameter,
  layout: LinearWeightLayout,
  read: (tensor: tf.Tensor) => Float32Array,
): PackedWeight {
  return weight.derived(PACKED_LAYOUT_KEY, (parameter) => {
    const order = storedOrder(parameter, layout);
    const { inFeatures, outFeatures } = linearFeatures(parameter, layout);
    const shape = order === 'in-out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    const packed = packWeight(
      pool,
      { dtype: 'fp32', data: read(parameter.tensor), shape },
      { order, version: parameter.version },
    );
    return new PackedParameterLayout(packed, order);
  }).packed;
}

/**
 * Loads checkpoint values (`raw`, in the checkpoint's shape) into `weight` as its packed copy alone,
 * with no tfjs tensor: bf16 and fp16 stay 16-bit (the kernel widens them exactly), fp32 stays fp32,
 * unless `dtype` asks for a lower precision (opt-in: bf16 rounds, int8 quantizes per output channel).
 * A tensor is restored from the copy only if something reads `weight.tensor`.
 */
export function loadPackedLinearWeight(
  pool: KernelPool,
  weight: Parameter,
  layout: LinearWeightLayout,
  raw: RawWeight,
  dtype?: PackedDtype,
): void {
  const packed = packWeight(pool, raw, { order: layout, dtype, version: weight.version + 1 });
  holdPackedLinearWeight(weight, layout, packed);
}

/** Makes `packed` (`weight`'s new value, in the checkpoint's `layout`) the weight's only copy. */
export function holdPackedLinearWeight(
  weight: Parameter,
  layout: LinearWeightLayout,
  packed: PackedWeight,
): void {
  weight.assignLayout(PACKED_LAYOUT_KEY, new PackedParameterLayout(packed, storedOrder(weight, layout)));
}
