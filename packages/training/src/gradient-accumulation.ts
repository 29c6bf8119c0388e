import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { IGNORE_INDEX } from '@tsformer/layers';
import { MissingLossError, TrainingOptionError } from './errors.js';
import { type LossAndGradients, lossAndGradients } from './gradients.js';
import { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from './training-batch.js';

/**
 * How many label tokens the model's loss counts in `batch`: labels other than `-100`, after the
 * shift a decoder-only model applies inside its loss (the first position of each row predicts
 * nothing). One small read of the labels.
 */
export async function countLossTokens(model: TrainableLanguageModel, batch: TrainingBatch): Promise<number> {
  const [rows, columns] = batch.labels.shape;
  const labels = await batch.labels.data();
  const first = model.kind === 'causal-lm' ? 1 : 0;
  let count = 0;
  for (let row = 0; row < rows; row++) {
    for (let column = first; column < columns; column++) {
      if (labels[row * columns + column] !== IGNORE_INDEX) count += 1;
    }
  }
  return count;
}

/**
 * The loss and gradients of several micro-batches taken as one optimizer step (gradient accumulation
 * in the manner of Hugging Face's Trainer with `num_items_in_batch`): each micro-batch's mean loss is
 * weighted by its share of the counted tokens and the gradients are summed, so the result is the
 * mean over every counted token, that of one big batch holding them all (with equal counts the
 * weights are the Trainer's `1 / gradient_accumulation_steps`). One difference from the Trainer, on
 * purpose: it counts `labels != -100` before the decoder-only shift (one token too many per row), so
 * its accumulated loss is a little below the big batch's; here the tokens the loss counts are
 * counted. Micro-batches run one at a time: only one forward's activations live at once. Every
 * returned tensor belongs to the caller.
 */
export async function accumulatedLossAndGradients(
  model: TrainableLanguageModel,
  microBatches: readonly TrainingBatch[],
  parameters: readonly Parameter[],
): Promise<LossAndGradients & { tokens: number }> {
  if (microBatches.length === 0)
    throw new TrainingOptionError('gradient accumulation needs at least one batch');
  const counts = await Promise.all(microBatches.map((batch) => countLossTokens(model, batch)));
  const tokens = counts.reduce((a, b) => a + b, 0);
  if (tokens === 0)
    throw new MissingLossError('every label of the accumulated batches is -100: no loss to train on');
  let loss: tf.Scalar | undefined;
  const gradients = new Map<Parameter, tf.Tensor>();
  for (const [i, batch] of microBatches.entries()) {
    const weight = counts[i]! / tokens;
    if (weight === 0) continue;
    const part = lossAndGradients(parameters, () => tf.mul(languageModelLoss(model, batch), weight));
    loss = addInto(loss, part.loss);
    for (const [parameter, gradient] of part.gradients) {
      gradients.set(parameter, addInto(gradients.get(parameter), gradient));
    }
  }
  return { loss: loss!, gradients, tokens };
}

/** `total + part` as a new tensor (both given ones freed), or `part` when there is no total yet. */
function addInto<T extends tf.Tensor>(total: T | undefined, part: T): T {
  if (total === undefined) return part;
  const sum = tf.add(total, part) as T;
  tf.dispose([total, part]);
  return sum;
}
