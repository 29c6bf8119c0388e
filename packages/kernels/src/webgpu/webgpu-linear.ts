import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { dispatchKernel } from './fast-dispatch.js';
import { GpuLinearWeight } from './gpu-linear-weight.js';
import { linearKernel, linearWorkgroups, MAX_LINEAR_ROWS, type WeightOrder } from './linear-program.js';

const WEIGHT_KEY = 'webgpu:linear-weight';

/** Whether linear weights get a 16-bit copy when their values are all bfloat16 (`enableWebgpuKernels`). */
let bf16Weights = true;

/** Sets whether new linear weights get a bf16 copy when exact (weights already seen keep theirs). */
export function setBf16Weights(enabled: boolean): void {
  bf16Weights = enabled;
}

/**
 * The `linear` op on webgpu for decode (at most `MAX_LINEAR_ROWS` rows): one `linearKernel` dispatch
 * instead of tfjs's reshape, matMul and bias add. The weight is read where it is stored, in either order,
 * or from its exact bf16 copy (`GpuLinearWeight`). `layout` is how the checkpoint shape reads (`in-out`
 * for GPT-2's Conv1D); more rows, a trainable weight or a non-float32 input go to the portable ops.
 */
export function webgpuLinear(
  x: tf.Tensor,
  weight: Parameter,
  bias?: Parameter,
  layout: WeightOrder = 'out-in',
): tf.Tensor | undefined {
  if (weight.isTrainable || bias?.isTrainable || x.dtype !== 'float32') return undefined;
  const [first, second] = weight.shape as [number, number];
  const [outFeatures, inFeatures] = layout === 'out-in' ? [first, second] : [second, first];
  const rows = x.size / inFeatures;
  if (!(rows >= 1 && rows <= MAX_LINEAR_ROWS)) return undefined;
  const stored = gpuLinearWeight(weight, layout);
  const { tensor, dtype } = stored.current;
  const kernel = linearKernel({ rows, order: stored.order, dtype, hasBias: bias !== undefined });
  return tf.tidy(() => {
    const inputs = [tf.reshape(x, [rows, inFeatures]), tensor, ...(bias ? [bias.tensor] : [])];
    const output = { shape: [rows, outFeatures], dtype: 'float32' as const };
    const workgroups = linearWorkgroups(stored.order, outFeatures);
    const [y] = dispatchKernel(kernel, inputs, [output], [inFeatures, outFeatures], workgroups); // [rows, out]
    return tf.reshape(y!, [...x.shape.slice(0, -1), outFeatures]);
  });
}

/**
 * The layout the kernel reads `weight` through, made on first use and kept by the parameter until its
 * value changes (`Parameter.derived`); tests await its `ready` for the bf16 check.
 */
export function gpuLinearWeight(weight: Parameter, layout: WeightOrder = 'out-in'): GpuLinearWeight {
  return weight.derived(WEIGHT_KEY, (parameter) => new GpuLinearWeight(parameter, layout, bf16Weights));
}
