import type * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { HyperparameterError, NoTrainableParametersError } from './errors.js';

/** What a training step drives: parameters updated in place from their gradients. */
export interface Optimizer {
  /** The parameters it updates (each made trainable). */
  readonly parameters: readonly Parameter[];
  /** The learning rate the next `step` uses (a scheduler sets it). */
  learningRate: number;
  /**
   * One update from `gradients` (stored layout, as `lossAndGradients` returns them). A parameter
   * without a gradient is left untouched, its state too (PyTorch skips a `None` grad). The caller
   * keeps and disposes the gradients.
   */
  step(gradients: ReadonlyMap<Parameter, tf.Tensor>): void;
  /** Frees the optimizer's state tensors. */
  dispose(): void;
}

/** A finite, non-negative hyperparameter, or a `HyperparameterError` naming it. */
export function checkHyperparameter(name: string, value: number, below?: number): number {
  if (!Number.isFinite(value) || value < 0 || (below !== undefined && value >= below)) {
    const range = below === undefined ? '≥ 0' : `in [0, ${below})`;
    throw new HyperparameterError(`${name} must be a finite number ${range}, got ${value}`);
  }
  return value;
}

/** `parameters` made trainable, each once; a `NoTrainableParametersError` for an empty list. */
export function trainableList(parameters: readonly Parameter[], optimizer: string): Parameter[] {
  if (parameters.length === 0)
    throw new NoTrainableParametersError(`${optimizer} needs at least one parameter`);
  const distinct = [...new Set(parameters)];
  for (const parameter of distinct) parameter.makeTrainable();
  return distinct;
}
