import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { clipGradNorm } from './clip-grad-norm.js';
import { lossAndGradients } from './gradients.js';
import type { Optimizer } from './optimizer.js';
import { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from './training-batch.js';

export interface TrainStepOptions {
  /** Clip the gradients to this global L2 norm first (`clip_grad_norm_`); default: no clipping. */
  maxGradNorm?: number;
  /** Also return the gradients as they were before clipping (the caller then disposes them). */
  keepGradients?: boolean;
}

/** What one step computed; every tensor belongs to the caller. */
export interface TrainStepResult {
  /** The loss before the update. */
  loss: tf.Scalar;
  /** The global gradient norm before clipping, when `maxGradNorm` was set. */
  gradNorm?: tf.Scalar;
  /** The unclipped gradients (stored layout), with `keepGradients`. */
  gradients?: Map<Parameter, tf.Tensor>;
}

/**
 * One optimisation step as a PyTorch loop writes it: loss and backward over the optimizer's
 * parameters, `clip_grad_norm_` when asked, `optimizer.step()`. Frees everything it does not return.
 */
export function trainStep(
  model: TrainableLanguageModel,
  batch: TrainingBatch,
  optimizer: Optimizer,
  options: TrainStepOptions = {},
): TrainStepResult {
  const { loss, gradients } = lossAndGradients(optimizer.parameters, () => languageModelLoss(model, batch));
  let applied: ReadonlyMap<Parameter, tf.Tensor> = gradients;
  let gradNorm: tf.Scalar | undefined;
  if (options.maxGradNorm !== undefined) {
    const clipped = clipGradNorm(gradients, options.maxGradNorm);
    applied = clipped.gradients;
    gradNorm = clipped.totalNorm;
  }
  optimizer.step(applied);
  if (applied !== gradients) tf.dispose([...applied.values()]);
  if (!options.keepGradients) tf.dispose([...gradients.values()]);
  return {
    loss,
    ...(gradNorm && { gradNorm }),
    ...(options.keepGradients && { gradients }),
  };
}
