import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@tsformer/core-tensor';
import { linearActivation, type NamedActivation } from '@tsformer/kernels';
import { namedActivation } from './activations.js';
import { Conv1D } from './conv1d.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

export interface MLPOptions {
  hiddenSize: number;
  intermediateSize: number;
  /** An HF activation name (`ACT2FN`). */
  activation: string;
  /** Names of the two projections in checkpoints (GPT-2: `c_fc` / `c_proj`). Default `fc1` / `fc2`. */
  inputName?: string;
  outputName?: string;
  /** `conv1d` for GPT-2's `[in, out]` layout, `linear` (default) for `nn.Linear`. */
  projection?: 'linear' | 'conv1d';
  /** Biases on both projections (default true; Conv1D always has them). */
  bias?: boolean;
  /** Dropout after the output projection (training only; default 0). */
  dropout?: number;
}

type Projection = Linear | Conv1D;

/** The classic two-layer feed-forward block: `out(act(in(x)))`, then dropout. */
export class MLP extends Module {
  readonly inputProjection: Projection;
  readonly outputProjection: Projection;
  readonly activation: NamedActivation;
  readonly dropout: Dropout;

  constructor(options: MLPOptions) {
    super();
    const { hiddenSize, intermediateSize } = options;
    const project = (inFeatures: number, outFeatures: number): Projection =>
      options.projection === 'conv1d'
        ? new Conv1D(inFeatures, outFeatures)
        : new Linear(inFeatures, outFeatures, { bias: options.bias ?? true });
    this.inputProjection = this.register(options.inputName ?? 'fc1', project(hiddenSize, intermediateSize));
    this.outputProjection = this.register(options.outputName ?? 'fc2', project(intermediateSize, hiddenSize));
    this.activation = namedActivation(options.activation);
    this.dropout = this.register('dropout', new Dropout(options.dropout ?? 0));
  }

  /**
   * `[..., hidden]` -> `[..., hidden]`; with `residual` `[..., hidden]`, returns `residual + mlp(hidden)`
   * (the add fused into the output projection when no dropout runs).
   */
  forward(hidden: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const intermediate = linearActivation(hidden, this.inputProjection.projection, this.activation); // [..., intermediate]
      const dropping = this.dropout.training && this.dropout.rate > 0;
      if (residual && !dropping) return this.outputProjection.forward(intermediate, residual);
      const output = this.dropout.forward(this.outputProjection.forward(intermediate));
      return residual ? tf.add(residual, output) : output;
    });
  }
}
