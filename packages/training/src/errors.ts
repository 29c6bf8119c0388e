import { TsformerError } from '@tsformer/core-tensor';

// Every error @tsformer/training throws on purpose (all TsformerErrors: `TsformerError.isInstance`
// tells them from bugs across copies of the package).

/** An optimizer or clipping hyperparameter out of its range, or a combination torch refuses. */
export class HyperparameterError extends TsformerError {
  override name = 'HyperparameterError';
}

/** An optimizer or a gradient computation given no parameter to train. */
export class NoTrainableParametersError extends TsformerError {
  override name = 'NoTrainableParametersError';
}

/** Gradients asked for before `await enableGradients()` loaded tfjs-core's gradient functions. */
export class GradientsNotEnabledError extends TsformerError {
  override name = 'GradientsNotEnabledError';
}

/** A model that computed no loss for a batch (no labels reached it, or it has no loss). */
export class MissingLossError extends TsformerError {
  override name = 'MissingLossError';
}

/**
 * A training reference (training.json, training-float64.json) without a field it needs, or with one
 * of the wrong type: the message names the field (`withFile` adds the file where it is read).
 */
export class TrainingReferenceError extends TsformerError {
  override name = 'TrainingReferenceError';
}

/** A Trainer, scheduler or dataset option that cannot be used: the message names the option. */
export class TrainingOptionError extends TsformerError {
  override name = 'TrainingOptionError';
}

/**
 * A training checkpoint (optimizer state, trainer_state.json) that is malformed or does not fit this
 * run: the message names the file, key or setting.
 */
export class TrainingCheckpointError extends TsformerError {
  override name = 'TrainingCheckpointError';
}
