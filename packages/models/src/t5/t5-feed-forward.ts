import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@tsformer/core-tensor';
import { type Activation, Dropout, getActivation, Linear } from '@tsformer/layers';
import type { T5Config } from './t5-config.js';

/** What a T5 feed-forward network is to its layer: `[batch, seq, d_model]` → same shape. */
export interface T5FeedForward extends Module {
  forward(hidden: tf.Tensor3D): tf.Tensor3D;
}

/** T5's `T5DenseActDense`: `wo(dropout(act(wi(x))))`, no biases (ReLU in the original T5). */
export class T5DenseActDense extends Module implements T5FeedForward {
  readonly wi: Linear;
  readonly wo: Linear;
  readonly dropout: Dropout;
  readonly activation: Activation;

  constructor(config: T5Config) {
    super();
    this.wi = this.register('wi', new Linear(config.dModel, config.dFf, { bias: false }));
    this.wo = this.register('wo', new Linear(config.dFf, config.dModel, { bias: false }));
    this.dropout = this.register('dropout', new Dropout(config.dropoutRate));
    this.activation = getActivation(config.denseActFn);
  }

  forward(hidden: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const intermediate = this.activation(this.wi.forward(hidden)); // [batch, seq, d_ff]
      return this.wo.forward(this.dropout.forward(intermediate)) as tf.Tensor3D;
    });
  }
}

/** T5 v1.1's `T5DenseGatedActDense`: `wo(dropout(act(wi_0(x)) · wi_1(x)))` (gated-gelu: gelu_new). */
export class T5DenseGatedActDense extends Module implements T5FeedForward {
  readonly wi0: Linear;
  readonly wi1: Linear;
  readonly wo: Linear;
  readonly dropout: Dropout;
  readonly activation: Activation;

  constructor(config: T5Config) {
    super();
    this.wi0 = this.register('wi_0', new Linear(config.dModel, config.dFf, { bias: false }));
    this.wi1 = this.register('wi_1', new Linear(config.dModel, config.dFf, { bias: false }));
    this.wo = this.register('wo', new Linear(config.dFf, config.dModel, { bias: false }));
    this.dropout = this.register('dropout', new Dropout(config.dropoutRate));
    this.activation = getActivation(config.denseActFn);
  }

  forward(hidden: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const gate = this.activation(this.wi0.forward(hidden)); // [batch, seq, d_ff]
      const gated = tf.mul(gate, this.wi1.forward(hidden));
      return this.wo.forward(this.dropout.forward(gated)) as tf.Tensor3D;
    });
  }
}

/** The feed-forward network a config asks for (`is_gated_act`). */
export function createT5FeedForward(config: T5Config): T5FeedForward {
  return config.isGatedAct ? new T5DenseGatedActDense(config) : new T5DenseActDense(config);
}
