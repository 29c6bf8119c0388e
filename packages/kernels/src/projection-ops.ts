import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { defineFusedOp } from './fused-op.js';
import { type LinearWeightLayout, linear } from './linear.js';

/** An element-wise activation and the Hugging Face name (`ACT2FN`) a backend kernel knows it by. */
export interface NamedActivation {
  name: string;
  apply: (input: tf.Tensor) => tf.Tensor;
}

/** A projection's parameters: `weight` (checkpoint `[out, in]`, or `[in, out]` for `in-out`) and `bias`. */
export interface Projection {
  weight: Parameter;
  bias?: Parameter;
  layout?: LinearWeightLayout;
}

/** `residual + linear(x)`: an output projection and the residual add after it, `[..., out]`. */
export const linearResidual = defineFusedOp(
  'linearResidual',
  (x: tf.Tensor, projection: Projection, residual: tf.Tensor): tf.Tensor =>
    tf.tidy(() => tf.add(residual, linear(x, projection.weight, projection.bias, projection.layout))),
);

/** `activation(linear(x))`: an MLP's input projection and its activation, `[..., out]`. */
export const linearActivation = defineFusedOp(
  'linearActivation',
  (x: tf.Tensor, projection: Projection, activation: NamedActivation): tf.Tensor =>
    tf.tidy(() => activation.apply(linear(x, projection.weight, projection.bias, projection.layout))),
);

/**
 * A gated MLP's first half, `activation(gate(x)) · up(x)` `[..., intermediate]` (SwiGLU for silu): on
 * webgpu one pass over both weights.
 */
export const gatedProjection = defineFusedOp(
  'gatedProjection',
  (x: tf.Tensor, gate: Projection, up: Projection, activation: NamedActivation): tf.Tensor =>
    tf.tidy(() =>
      tf.mul(
        activation.apply(linear(x, gate.weight, gate.bias, gate.layout)),
        linear(x, up.weight, up.bias, up.layout),
      ),
    ),
);
