import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { HyperparameterError, TrainingCheckpointError } from './errors.js';
import { checkHyperparameter, trainableList } from './optimizer.js';
import {
  checkStateShape,
  type OptimizerState,
  type StatefulOptimizer,
  stateIndex,
} from './optimizer-state.js';

/** `torch.optim.SGD`'s hyperparameters, with its defaults (the learning rate has none there: 1e-3 here). */
export interface SGDOptions {
  learningRate?: number;
  /** Default 0 (plain gradient descent). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (coupled, as torch's SGD), default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0), default false. */
  nesterov?: boolean;
}

/**
 * `torch.optim.SGD` (single-tensor path): `g ← g + wd·p`; with momentum, `b ← g` on the first step,
 * then `b ← μ·b + (1 − dampening)·g`, and `g ← b` (or `g + μ·b` with Nesterov); `p ← p − lr·g`.
 */
export class SGD implements StatefulOptimizer {
  readonly parameters: readonly Parameter[];
  learningRate: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly momentumBuffers = new Map<Parameter, tf.Tensor>();

  constructor(parameters: readonly Parameter[], options: SGDOptions = {}) {
    this.parameters = trainableList(parameters, 'SGD');
    this.learningRate = checkHyperparameter('learningRate', options.learningRate ?? 1e-3);
    this.momentum = checkHyperparameter('momentum', options.momentum ?? 0);
    this.dampening = checkHyperparameter('dampening', options.dampening ?? 0);
    this.weightDecay = checkHyperparameter('weightDecay', options.weightDecay ?? 0);
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new HyperparameterError('Nesterov momentum requires a momentum > 0 and zero dampening');
    }
  }

  step(gradients: ReadonlyMap<Parameter, tf.Tensor>): void {
    const { learningRate: lr, momentum, dampening, weightDecay, nesterov } = this;
    for (const parameter of this.parameters) {
      const gradient = gradients.get(parameter);
      if (!gradient) continue;
      const previous = this.momentumBuffers.get(parameter);
      const next = tf.tidy(() => {
        let direction =
          weightDecay === 0 ? gradient : tf.add(gradient, tf.mul(parameter.tensor, weightDecay));
        let buffer: tf.Tensor | undefined;
        if (momentum !== 0) {
          buffer = previous
            ? tf.add(tf.mul(previous, momentum), tf.mul(direction, 1 - dampening))
            : tf.clone(direction);
          direction = nesterov ? tf.add(direction, tf.mul(buffer, momentum)) : buffer;
          tf.keep(buffer);
        }
        return { value: tf.add(parameter.tensor, tf.mul(direction, -lr)), buffer };
      });
      parameter.update(next.value);
      next.value.dispose();
      if (next.buffer) {
        previous?.dispose();
        this.momentumBuffers.set(parameter, next.buffer);
      }
    }
  }

  /** `<i>.momentum_buffer` per parameter that has one, and `learning_rate`. */
  state(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [index, parameter] of this.parameters.entries()) {
      const buffer = this.momentumBuffers.get(parameter);
      if (buffer) tensors[`${index}.momentum_buffer`] = buffer;
    }
    return { tensors, scalars: { learning_rate: this.learningRate } };
  }

  loadState({ tensors, scalars }: OptimizerState): void {
    const loaded = new Map<Parameter, tf.Tensor>();
    for (const [key, tensor] of Object.entries(tensors)) {
      const index = stateIndex(key, this);
      if (key !== `${index}.momentum_buffer`) throw new TrainingCheckpointError(`unknown SGD state "${key}"`);
      loaded.set(this.parameters[index]!, tf.keep(checkStateShape(key, tensor, this, index)));
    }
    this.dispose();
    for (const [parameter, buffer] of loaded) this.momentumBuffers.set(parameter, buffer);
    if (scalars.learning_rate !== undefined) this.learningRate = scalars.learning_rate;
  }

  dispose(): void {
    tf.dispose([...this.momentumBuffers.values()]);
    this.momentumBuffers.clear();
  }
}
