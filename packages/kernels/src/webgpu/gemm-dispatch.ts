import * as tf from '@tensorflow/tfjs-core';
import { dispatchKernel } from './fast-dispatch.js';
import { type GemmOptions, gemmGrid } from './gemm-grid.js';
import { GEMM_REDUCE_WORKGROUP, type GemmVariant, gemmKernel, gemmReduceKernel } from './gemm-program.js';

/** The tensors of one GEMM: `x` `[rows, in]` (any leading shape), the weights as stored, the epilogue's. */
export interface GemmOperands {
  x: tf.Tensor;
  weight: tf.Tensor;
  bias?: tf.Tensor;
  up?: tf.Tensor;
  upBias?: tf.Tensor;
  residual?: tf.Tensor;
}

/**
 * `variant`'s GEMM of `[rows, inFeatures]` rows into a float32 tensor of `shape` (`[..., outFeatures]`):
 * one dispatch of `gemmKernel` when `gemmGrid` leaves `in` whole, else the split kernel into a partial
 * buffer `[splits, rows, outFeatures]` (freed here) and `gemmReduceKernel` over it.
 */
export function dispatchGemm(
  variant: GemmVariant,
  operands: GemmOperands,
  [rows, inFeatures, outFeatures]: [number, number, number],
  shape: number[],
  options: GemmOptions = {},
): tf.Tensor {
  const { x, weight, bias, up, upBias, residual } = operands;
  const { splits, slice, workgroups } = gemmGrid(rows, inFeatures, outFeatures, options);
  const uniforms = [rows, inFeatures, outFeatures, slice];
  const output = { shape, dtype: 'float32' as const };
  if (splits === 1) {
    const inputs = present([x, weight, bias, up, upBias, residual]);
    return dispatchKernel(gemmKernel(variant, false), inputs, [output], uniforms, workgroups)[0]!;
  }
  const partial = { shape: [splits, rows, outFeatures], dtype: 'float32' as const }; // [splits, rows, out]
  const partials = dispatchKernel(
    gemmKernel(variant, true),
    present([x, weight, up]),
    up ? [partial, partial] : [partial],
    uniforms,
    workgroups,
  );
  const size = rows * outFeatures;
  const [result] = dispatchKernel(
    gemmReduceKernel(variant),
    [...partials, ...present([bias, upBias, residual])],
    [output],
    [size, outFeatures, splits],
    Math.ceil(size / GEMM_REDUCE_WORKGROUP),
  );
  tf.dispose(partials);
  return result!;
}

/** The tensors given, in order, without the absent ones: a kernel binds only its variant's inputs. */
function present(tensors: (tf.Tensor | undefined)[]): tf.Tensor[] {
  return tensors.filter((tensor): tensor is tf.Tensor => tensor !== undefined);
}
