import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, SeededRandom } from '@tsformer/core-tensor';
import { fromPretrained } from '@tsformer/models';
import { AdamW, type TrainableLanguageModel, type TrainingBatch, trainStep } from '@tsformer/training';
import { peakRssMiB } from './machine.js';
import { round } from './measure.js';

export interface TrainingFigures {
  model: string;
  parameters: number;
  batch: number;
  sequenceLength: number;
  steps: number;
  /** Tokens through forward, backward, clipping and the AdamW update, per second (warm steps). */
  tokensPerSecond: number;
  stepMs: number;
  /** tf.memory()'s largest numBytes during one warm step (weights, AdamW's moments, activations, gradients). */
  peakTensorMiB: number;
  /** What stays between steps: weights and AdamW's two moments. */
  tensorMiBBetweenSteps: number;
  peakRssMiB: number;
  tensorsAliveAfter: number;
}

/** `[batch, length]` seeded random token ids as inputs and labels (the model shifts labels inside). */
function randomBatch(vocab: number, batch: number, length: number, seed: number): TrainingBatch {
  const random = new SeededRandom(seed);
  const ids = Array.from({ length: batch }, () =>
    Array.from({ length }, () => Math.floor(random.uniform() * vocab)),
  );
  const inputIds = tf.tensor2d(ids, [batch, length], 'int32');
  return { inputIds, attentionMask: tf.onesLike(inputIds), labels: inputIds.clone() };
}

/**
 * Fine-tuning speed of a causal LM folder: AdamW (lr 1e-4, weight decay 0.01) with global-norm clipping
 * to 1.0 on seeded random batches, dropout on (training mode); one warm-up step (AdamW's moments,
 * kernels), then `steps` timed steps.
 */
export async function measureTraining(
  folder: string,
  name: string,
  batch: number,
  sequenceLength: number,
  steps: number,
): Promise<TrainingFigures> {
  await enableGradients();
  const tensorsBefore = tf.memory().numTensors;
  const { model } = await fromPretrained(folder);
  const trainable = model as unknown as TrainableLanguageModel;
  const vocab = model.vocabSize;
  const optimizer = new AdamW(
    trainable.makeTrainable().map(([, parameter]) => parameter),
    { learningRate: 1e-4, weightDecay: 0.01 },
  );
  model.train({ seed: 0 });
  const step = async (seed: number) => {
    const data = randomBatch(vocab, batch, sequenceLength, seed);
    const { loss, gradNorm } = trainStep(trainable, data, optimizer, { maxGradNorm: 1 });
    await loss.data(); // the step is done when its loss can be read
    tf.dispose([loss, gradNorm!, ...Object.values(data)]);
  };
  await step(0);
  const betweenSteps = tf.memory().numBytes;
  const profile = await tf.profile(() => step(1));
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step(2 + i);
  const elapsed = performance.now() - start;
  const figures: TrainingFigures = {
    model: name,
    parameters: model.numParameters(),
    batch,
    sequenceLength,
    steps,
    tokensPerSecond: round((batch * sequenceLength * steps * 1000) / elapsed),
    stepMs: round(elapsed / steps),
    peakTensorMiB: round(profile.peakBytes / 2 ** 20),
    tensorMiBBetweenSteps: round(betweenSteps / 2 ** 20),
    peakRssMiB: peakRssMiB(),
    tensorsAliveAfter: 0,
  };
  optimizer.dispose();
  model.dispose();
  figures.tensorsAliveAfter = tf.memory().numTensors - tensorsBefore;
  return figures;
}
