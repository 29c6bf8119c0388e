import type * as tf from '@tensorflow/tfjs-core';
import { TrainingCheckpointError } from './errors.js';
import type { Optimizer } from './optimizer.js';

/**
 * An optimizer's state as a checkpoint holds it (PyTorch's `optimizer.state_dict()`): tensors keyed
 * `<parameter index>.<name>` (`3.exp_avg`), indices counting the optimizer's `parameters`, and
 * numbers (`3.step`, `learning_rate`).
 */
export interface OptimizerState {
  tensors: Record<string, tf.Tensor>;
  scalars: Record<string, number>;
}

/** An optimizer whose state can be saved and restored, so a resumed run continues exactly. */
export interface StatefulOptimizer extends Optimizer {
  /** The current state: the tensors are the optimizer's own (read them, do not dispose them). */
  state(): OptimizerState;
  /**
   * Replaces the state with `state` (taking ownership of its tensors, each in its parameter's stored
   * layout) and frees the previous one; a typed error names a key or shape that does not fit.
   */
  loadState(state: OptimizerState): void;
}

/** The parameter index of a state key (`3.exp_avg` → 3), checked against the optimizer's parameters. */
export function stateIndex(key: string, optimizer: Optimizer): number {
  const index = Number(key.slice(0, key.indexOf('.')));
  if (!Number.isInteger(index) || index < 0 || index >= optimizer.parameters.length) {
    throw new TrainingCheckpointError(
      `optimizer state "${key}" names no parameter (the optimizer has ${optimizer.parameters.length})`,
    );
  }
  return index;
}

/** `tensor` if it has parameter `index`'s stored shape, else a `TrainingCheckpointError` naming the key. */
export function checkStateShape(
  key: string,
  tensor: tf.Tensor,
  optimizer: Optimizer,
  index: number,
): tf.Tensor {
  const expected = optimizer.parameters[index]!.storedShape;
  if (tensor.shape.join() !== expected.join()) {
    throw new TrainingCheckpointError(
      `optimizer state "${key}" has shape [${tensor.shape}], its parameter [${expected}]`,
    );
  }
  return tensor;
}
