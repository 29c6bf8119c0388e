import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { linearFeatures } from '../linear.js';
import type { NamedActivation, Projection } from '../projection-ops.js';
import { dispatchKernel } from './fast-dispatch.js';
import { dispatchGemm } from './gemm-dispatch.js';
import type { GemmOptions } from './gemm-grid.js';
import { GpuLinearWeight } from './gpu-linear-weight.js';
import {
  linearKernel,
  linearWorkgroups,
  MAX_GATED_ROWS,
  MAX_LINEAR_ROWS,
  type WeightOrder,
} from './linear-program.js';
import { hasWgslActivation } from './wgsl-activations.js';

const WEIGHT_KEY = 'webgpu:linear-weight';

/** Whether linear weights get a 16-bit copy when their values are all bfloat16 (`enableWebgpuKernels`). */
let bf16Weights = true;

/** Sets whether new linear weights get a bf16 copy when exact (weights already seen keep theirs). */
export function setBf16Weights(enabled: boolean): void {
  bf16Weights = enabled;
}

/** What runs after the product in the same dispatch (see `LinearVariant`). */
export interface LinearEpilogue {
  activation?: NamedActivation;
  residual?: tf.Tensor;
  up?: Projection;
}

/**
 * The `linear` op on webgpu: one dispatch instead of tfjs's reshape, matMul and bias add — `linearKernel`
 * for decode (at most `MAX_LINEAR_ROWS` rows), `gemmKernel` for more (a prefill). The weight is read
 * where it is stored, in either order, or from its exact bf16 copy (`GpuLinearWeight`). `layout` is how the checkpoint shape reads (`in-out`
 * for GPT-2's Conv1D); a trainable weight or a non-float32 input go to the portable ops.
 */
export function webgpuLinear(
  x: tf.Tensor,
  weight: Parameter,
  bias?: Parameter,
  layout: WeightOrder = 'out-in',
): tf.Tensor | undefined {
  return webgpuLinearWithEpilogue(x, { weight, bias, layout }, {});
}

/** The `linearResidual` op on webgpu: the residual added in the linear kernel's epilogue. */
export function webgpuLinearResidual(x: tf.Tensor, projection: Projection, residual: tf.Tensor) {
  return webgpuLinearWithEpilogue(x, projection, { residual });
}

/** The `linearActivation` op on webgpu: the activation applied in the linear kernel's epilogue. */
export function webgpuLinearActivation(x: tf.Tensor, projection: Projection, activation: NamedActivation) {
  return webgpuLinearWithEpilogue(x, projection, { activation });
}

/** The `gatedProjection` op on webgpu: gate and up read in one pass, `activation(gate) · up` written. */
export function webgpuGatedProjection(
  x: tf.Tensor,
  gate: Projection,
  up: Projection,
  activation: NamedActivation,
) {
  return webgpuLinearWithEpilogue(x, gate, { activation, up });
}

/**
 * `x`'s projection with its epilogue on webgpu (what the ops above call), or `undefined` where the portable
 * ops must serve it; `gemm` picks the prefill GEMM's grid (benchmarks force split-K on or off; unset, by shape).
 */
export function webgpuLinearWithEpilogue(
  x: tf.Tensor,
  projection: Projection,
  epilogue: LinearEpilogue,
  gemm: GemmOptions = {},
): tf.Tensor | undefined {
  const { weight, bias, layout = 'out-in' } = projection;
  const { activation, residual, up } = epilogue;
  const parameters = [weight, bias, up?.weight, up?.bias];
  if (x.dtype !== 'float32' || parameters.some((p) => p?.isTrainable)) return undefined;
  if (activation && !hasWgslActivation(activation.name)) return undefined;
  const { inFeatures, outFeatures } = linearFeatures(weight, layout);
  const rows = x.size / inFeatures;
  if (!(rows >= 1)) return undefined;
  // Decode's few rows: a matrix-vector kernel; a prefill's many: a tiled product.
  const fewRows = rows <= (up ? MAX_GATED_ROWS : MAX_LINEAR_ROWS);
  if (residual && (residual.dtype !== 'float32' || residual.size !== rows * outFeatures)) return undefined;
  const stored = gpuLinearWeight(weight, layout);
  const upStored = up && gpuLinearWeight(up.weight, up.layout ?? 'out-in');
  if (
    up &&
    (!tf.util.arraysEqual([...up.weight.shape], [...weight.shape]) || upStored!.order !== stored.order)
  ) {
    return undefined;
  }
  const { tensor, dtype } = stored.current;
  const upCurrent = upStored?.current;
  const variant = {
    order: stored.order,
    dtype,
    hasBias: bias !== undefined,
    activation: activation?.name,
    hasResidual: residual !== undefined,
    up: upCurrent && { dtype: upCurrent.dtype, hasBias: up!.bias !== undefined },
  };
  const shape = [...x.shape.slice(0, -1), outFeatures]; // [..., out]
  if (!fewRows) {
    const operands = {
      x,
      weight: tensor,
      bias: bias?.tensor,
      up: upCurrent?.tensor,
      upBias: up?.bias?.tensor,
      residual,
    };
    return dispatchGemm(variant, operands, [rows, inFeatures, outFeatures], shape, gemm);
  }
  const inputs = [
    x,
    tensor,
    ...(bias ? [bias.tensor] : []),
    ...(upCurrent ? [upCurrent.tensor] : []),
    ...(up?.bias ? [up.bias.tensor] : []),
    ...(residual ? [residual] : []),
  ];
  const kernel = linearKernel({ rows, ...variant });
  const workgroups = linearWorkgroups(stored.order, outFeatures);
  return dispatchKernel(
    kernel,
    inputs,
    [{ shape, dtype: 'float32' }],
    [inFeatures, outFeatures],
    workgroups,
  )[0];
}

/**
 * The layout the kernel reads `weight` through, made on first use and kept by the parameter until its
 * value changes (`Parameter.derived`); tests await its `ready` for the bf16 check.
 */
export function gpuLinearWeight(weight: Parameter, layout: WeightOrder = 'out-in'): GpuLinearWeight {
  return weight.derived(WEIGHT_KEY, (parameter) => new GpuLinearWeight(parameter, layout, bf16Weights));
}
