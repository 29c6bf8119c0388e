import * as tf from '@tensorflow/tfjs-core';
import type { NormSpec } from '../norm-ops.js';
import { dispatchKernel } from './fast-dispatch.js';
import { normKernel } from './norm-program.js';

/** Whether the kernel serves `spec`: inference (no trainable parameter), float32 input. */
function served(input: tf.Tensor, spec: NormSpec): boolean {
  const parameters = spec.kind === 'rms' ? [spec.weight] : [spec.weight, spec.bias];
  return input.dtype === 'float32' && input.size > 0 && parameters.every((p) => !p?.isTrainable);
}

/** `normKernel` over `x` (and `delta`) for `spec`: `[sum?, normed]` of `x`'s shape. */
function runNorm(x: tf.Tensor, delta: tf.Tensor | undefined, spec: NormSpec): tf.Tensor[] {
  const hidden = x.shape.at(-1)!;
  const weight = spec.weight?.tensor;
  const bias = spec.kind === 'layer' ? spec.bias?.tensor : undefined;
  const kernel = normKernel({
    kind: spec.kind,
    hasWeight: weight !== undefined,
    hasBias: bias !== undefined,
    addsDelta: delta !== undefined,
  });
  const output = { shape: x.shape, dtype: 'float32' as const };
  const inputs = [x, ...(delta ? [delta] : []), ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const offset = spec.kind === 'rms' ? spec.weightOffset : 0;
  return dispatchKernel(
    kernel,
    inputs,
    delta ? [output, output] : [output],
    [hidden, spec.eps, offset],
    x.size / hidden,
  );
}

/** The `normalize` op on webgpu: one dispatch (a workgroup per row) instead of tfjs's six or more. */
export function webgpuNormalize(input: tf.Tensor, spec: NormSpec): tf.Tensor | undefined {
  if (!served(input, spec)) return undefined;
  return runNorm(input, undefined, spec)[0];
}

/** The `addNormalize` op on webgpu: the residual add and the norm in one dispatch, both results written. */
export function webgpuAddNormalize(
  residual: tf.Tensor,
  delta: tf.Tensor,
  spec: NormSpec,
): { sum: tf.Tensor; normed: tf.Tensor } | undefined {
  if (
    !served(residual, spec) ||
    delta.dtype !== 'float32' ||
    !tf.util.arraysEqual(residual.shape, delta.shape)
  ) {
    return undefined;
  }
  const [sum, normed] = runNorm(residual, delta, spec);
  return { sum: sum!, normed: normed! };
}
