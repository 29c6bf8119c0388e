import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@tsformer/core-tensor';
import { gatedProjection, type NamedActivation } from '@tsformer/kernels';
import { namedActivation } from './activations.js';
import { Linear } from './linear.js';

export interface GatedMLPOptions {
  hiddenSize: number;
  intermediateSize: number;
  /** An HF activation name (`hidden_act`; `silu` makes SwiGLU, `gelu_pytorch_tanh` GeGLU). */
  activation: string;
  /** Biases on the projections (Llama's `mlp_bias`, default false). */
  bias?: boolean;
  /**
   * One `gate_up_proj` `[2·intermediate, hidden]` whose output is `[gate | up]` halves (Phi-3), instead
   * of separate `gate_proj` and `up_proj` (default false).
   */
  fusedGateUp?: boolean;
}

/**
 * Llama's gated feed-forward (SwiGLU for silu): `down_proj(act(gate_proj(x)) * up_proj(x))`; with
 * `fusedGateUp`, gate and up come from one projection (Phi-3's `gate_up_proj`).
 */
export class GatedMLP extends Module {
  /** `gate_proj`, or `gate_up_proj` when fused. */
  readonly gateProj: Linear;
  /** `up_proj`; undefined when fused into `gateProj`. */
  readonly upProj: Linear | undefined;
  readonly downProj: Linear;
  readonly activation: NamedActivation;

  constructor(options: GatedMLPOptions) {
    super();
    const { hiddenSize, intermediateSize } = options;
    const bias = options.bias ?? false;
    if (options.fusedGateUp) {
      this.gateProj = this.register('gate_up_proj', new Linear(hiddenSize, 2 * intermediateSize, { bias }));
      this.upProj = undefined;
    } else {
      this.gateProj = this.register('gate_proj', new Linear(hiddenSize, intermediateSize, { bias }));
      this.upProj = this.register('up_proj', new Linear(hiddenSize, intermediateSize, { bias }));
    }
    this.downProj = this.register('down_proj', new Linear(intermediateSize, hiddenSize, { bias }));
    this.activation = namedActivation(options.activation);
  }

  /**
   * `[..., hidden]` -> `[..., hidden]`; with `residual` `[..., hidden]`, returns `residual + mlp(hidden)`
   * (on webgpu: gate and up in one pass, then down with the add, two dispatches).
   */
  forward(hidden: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let gated: tf.Tensor; // [..., intermediate]
      if (this.upProj) {
        gated = gatedProjection(hidden, this.gateProj.projection, this.upProj.projection, this.activation);
      } else {
        const [gate, up] = tf.split(this.gateProj.forward(hidden), 2, -1) as [tf.Tensor, tf.Tensor]; // [gate | up]
        gated = tf.mul(this.activation.apply(gate), up);
      }
      return this.downProj.forward(gated, residual);
    });
  }
}
