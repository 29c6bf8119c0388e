import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { TrainingCheckpointError } from './errors.js';
import { checkHyperparameter, trainableList } from './optimizer.js';
import {
  checkStateShape,
  type OptimizerState,
  type StatefulOptimizer,
  stateIndex,
} from './optimizer-state.js';

/** `torch.optim.AdamW`'s hyperparameters, with its defaults. */
export interface AdamWOptions {
  /** Default 1e-3. */
  learningRate?: number;
  /** `(beta1, beta2)`, default `[0.9, 0.999]`. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0.01, applied to every parameter given. */
  weightDecay?: number;
}

interface AdamState {
  step: number;
  /** First moment, stored layout. */
  expAvg: tf.Tensor;
  /** Second moment, stored layout. */
  expAvgSq: tf.Tensor;
}

/**
 * `torch.optim.AdamW` (its single-tensor path, float32), operation for operation:
 * `p ← p·(1 − lr·wd)`; `m ← m + (1 − β1)(g − m)`; `v ← β2·v + (1 − β2)·g·g`;
 * `p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)`, with `t` counted per parameter.
 */
export class AdamW implements StatefulOptimizer {
  readonly parameters: readonly Parameter[];
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly states = new Map<Parameter, AdamState>();

  constructor(parameters: readonly Parameter[], options: AdamWOptions = {}) {
    this.parameters = trainableList(parameters, 'AdamW');
    this.learningRate = checkHyperparameter('learningRate', options.learningRate ?? 1e-3);
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    this.beta1 = checkHyperparameter('betas[0]', beta1, 1);
    this.beta2 = checkHyperparameter('betas[1]', beta2, 1);
    this.eps = checkHyperparameter('eps', options.eps ?? 1e-8);
    this.weightDecay = checkHyperparameter('weightDecay', options.weightDecay ?? 1e-2);
  }

  step(gradients: ReadonlyMap<Parameter, tf.Tensor>): void {
    const { learningRate: lr, beta1, beta2, eps, weightDecay } = this;
    for (const parameter of this.parameters) {
      const gradient = gradients.get(parameter);
      if (!gradient) continue;
      const state = this.states.get(parameter) ?? {
        step: 0,
        expAvg: tf.keep(tf.zerosLike(parameter.tensor)),
        expAvgSq: tf.keep(tf.zerosLike(parameter.tensor)),
      };
      const step = state.step + 1;
      const next = tf.tidy(() => {
        const decayed = tf.mul(parameter.tensor, 1 - lr * weightDecay);
        const expAvg = tf.add(state.expAvg, tf.mul(tf.sub(gradient, state.expAvg), 1 - beta1));
        const expAvgSq = tf.add(tf.mul(state.expAvgSq, beta2), tf.mul(tf.mul(gradient, 1 - beta2), gradient));
        const stepSize = lr / (1 - beta1 ** step);
        const denominator = tf.add(tf.div(tf.sqrt(expAvgSq), Math.sqrt(1 - beta2 ** step)), eps);
        const value = tf.add(decayed, tf.div(tf.mul(expAvg, -stepSize), denominator));
        return { value, expAvg: tf.keep(expAvg), expAvgSq: tf.keep(expAvgSq) };
      });
      parameter.update(next.value);
      next.value.dispose();
      tf.dispose([state.expAvg, state.expAvgSq]);
      this.states.set(parameter, { step, expAvg: next.expAvg, expAvgSq: next.expAvgSq });
    }
  }

  /** `<i>.exp_avg`, `<i>.exp_avg_sq` and `<i>.step` per parameter with state, and `learning_rate`. */
  state(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    const scalars: Record<string, number> = { learning_rate: this.learningRate };
    for (const [index, parameter] of this.parameters.entries()) {
      const state = this.states.get(parameter);
      if (!state) continue;
      tensors[`${index}.exp_avg`] = state.expAvg;
      tensors[`${index}.exp_avg_sq`] = state.expAvgSq;
      scalars[`${index}.step`] = state.step;
    }
    return { tensors, scalars };
  }

  loadState({ tensors, scalars }: OptimizerState): void {
    const loaded = new Map<Parameter, AdamState>();
    for (const [key, step] of Object.entries(scalars)) {
      if (key === 'learning_rate') continue;
      const index = stateIndex(key, this);
      const moment = (name: string) => {
        const tensor = tensors[`${index}.${name}`];
        if (!tensor) throw new TrainingCheckpointError(`optimizer state has ${key} but no ${index}.${name}`);
        return tf.keep(checkStateShape(`${index}.${name}`, tensor, this, index));
      };
      loaded.set(this.parameters[index]!, {
        step,
        expAvg: moment('exp_avg'),
        expAvgSq: moment('exp_avg_sq'),
      });
    }
    this.dispose();
    for (const [parameter, state] of loaded) this.states.set(parameter, state);
    if (scalars.learning_rate !== undefined) this.learningRate = scalars.learning_rate;
  }

  dispose(): void {
    for (const state of this.states.values()) tf.dispose([state.expAvg, state.expAvgSq]);
    this.states.clear();
  }
}
