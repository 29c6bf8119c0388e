import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@tsformer/core-tensor';
import { type Activation, getActivation } from './activations.js';
import { Linear } from './linear.js';

export interface GatedMLPOptions {
  hiddenSize: number;
  intermediateSize: number;
  /** An HF activation name (`hidden_act`; `silu` makes SwiGLU). */
  activation: string;
  /** Biases on the three projections (Llama's `mlp_bias`, default false). */
  bias?: boolean;
}

/** Llama's gated feed-forward (SwiGLU for silu): `down_proj(act(gate_proj(x)) * up_proj(x))`. */
export class GatedMLP extends Module {
  readonly gateProj: Linear;
  readonly upProj: Linear;
  readonly downProj: Linear;
  readonly activation: Activation;

  constructor(options: GatedMLPOptions) {
    super();
    const { hiddenSize, intermediateSize } = options;
    const bias = options.bias ?? false;
    this.gateProj = this.register('gate_proj', new Linear(hiddenSize, intermediateSize, { bias }));
    this.upProj = this.register('up_proj', new Linear(hiddenSize, intermediateSize, { bias }));
    this.downProj = this.register('down_proj', new Linear(intermediateSize, hiddenSize, { bias }));
    this.activation = getActivation(options.activation);
  }

  /** `[..., hidden]` -> `[..., hidden]`. */
  forward(hidden: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gate = this.activation(this.gateProj.forward(hidden)); // [..., intermediate]
      return this.downProj.forward(tf.mul(gate, this.upProj.forward(hidden)));
    });
  }
}
