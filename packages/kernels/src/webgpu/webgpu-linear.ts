import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { type GpuWeightDtype, LinearProgram, MAX_LINEAR_ROWS, type WeightOrder } from './linear-program.js';
import { runProgram } from './webgpu-backend.js';

/** The weight as the kernel reads it: its stored tensor (no copy) in `order`. */
interface GpuLinearWeight {
  tensor: tf.Tensor;
  order: WeightOrder;
  dtype: GpuWeightDtype;
  dispose(): void;
}

const WEIGHT_KEY = 'webgpu:linear-weight';

/**
 * The `linear` op on webgpu for decode (at most `MAX_LINEAR_ROWS` rows): one `LinearProgram` dispatch
 * instead of tfjs's reshape, matMul and bias add. The weight is read where it is stored, in either order,
 * with nothing copied. `layout` is how the checkpoint shape reads (`in-out` for GPT-2's Conv1D); more
 * rows, a trainable weight or a non-float32 input go to the portable ops.
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
  const stored = weight.derived(WEIGHT_KEY, (parameter) => storedWeight(parameter, layout));
  return tf.tidy(() => {
    const program = new LinearProgram(rows, outFeatures, stored.order, stored.dtype, bias !== undefined);
    const inputs = [tf.reshape(x, [rows, inFeatures]), stored.tensor, ...(bias ? [bias.tensor] : [])];
    const y = runProgram(program, inputs, 'float32', [
      { type: 'int32', data: [inFeatures] },
      { type: 'int32', data: [outFeatures] },
    ]); // [rows, out]
    return tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]);
  });
}

/** The parameter's own tensor, described: the checkpoint layout, reversed when stored transposed. */
function storedWeight(weight: Parameter, layout: WeightOrder): GpuLinearWeight {
  const reversed: WeightOrder = layout === 'out-in' ? 'in-out' : 'out-in';
  return {
    tensor: weight.tensor,
    order: weight.transposed ? reversed : layout,
    dtype: 'fp32',
    dispose: () => {}, // the parameter's tensor, not ours
  };
}
