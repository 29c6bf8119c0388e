// Every reference folder with training.json: PyTorch's losses, gradient norms, gradients and weights
// after 3 clip-then-AdamW steps, reproduced on wasm (and on cpu for two of them).
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, enableGradients, openSafetensors, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { describe, expect, it } from 'vitest';
import { batchOf, FIXTURES, loadModel, readJson } from '../test/reference-folders.js';
import { AdamW } from './adamw.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { lossAndGradients } from './gradients.js';
import {
  checkTrainingReference,
  type Float64TrainingJson,
  KNOWN_TRAINING_MISMATCHES,
  type TrainingReferenceJson,
} from './testing/index.js';
import { trainStep } from './train-step.js';
import { languageModelLoss } from './training-batch.js';

const FOLDERS = ['gpt2', 'llama', 'qwen3', 'gemma2', 'phi3', 'gpt_neox', 'bart', 'marian', 't5'];

const NONE_OPEN = /^$/;

const RUNS: [string, BackendName][] = [
  ...FOLDERS.map((folder): [string, BackendName] => [folder, 'wasm']),
  ['llama', 'cpu'],
  ['t5', 'cpu'],
];

describe.each(RUNS)('%s fine-tuned as PyTorch does (%s)', (folder, backend) => {
  it('matches its losses, gradient norms, gradients and weights after 3 AdamW steps', async () => {
    await useBackend(backend);
    const dir = `${FIXTURES}${folder}`;
    const reference = readJson<TrainingReferenceJson>(`${dir}/training.json`);
    const model = await loadModel(folder);
    try {
      const batch = batchOf(reference);
      languageModelLoss(model, batch).dispose(); // fills the kept rotary tables before counting
      tf.dispose(Object.values(batch));
      const tensors = await openSafetensors(`${dir}/training.safetensors`);
      const float64 = {
        json: readJson<Float64TrainingJson>(`${dir}/training-float64.json`),
        tensors: await openSafetensors(`${dir}/training-float64.safetensors`),
      };
      const checks = await expectNoLeak(() => checkTrainingReference(model, reference, tensors, float64));
      const open = KNOWN_TRAINING_MISMATCHES[folder] ?? NONE_OPEN;
      const failed = checks
        .filter((check) => !check.pass && !open.test(check.name))
        .map((check) => `${check.name}: ${check.detail}`);
      expect(failed).toEqual([]);
      // which rule judged, losses, grad norms, one gradient and one final weight per parameter
      expect(checks).toHaveLength(2 * reference.hyperparameters.steps + 2 + 2 * reference.parameters.length);
      expect(checks.filter((check) => check.reported).map((check) => check.name)).toEqual([
        'float64_reference',
      ]);
    } finally {
      model.dispose();
    }
  }, 300_000);
});

describe('bart after its first update', () => {
  // BART's losses and norms after the first update differ from PyTorch's float32 by up to 7.8e-4
  // (grad_norm[2]) while step 0 matches: the float64 redo shows PyTorch's own float32 runs as far
  // from float64 (CPU 3.4e-4, CUDA 6.1e-4 on grad_norm[1]; ours 2.0e-4), an ill-conditioned first
  // update (gradients near AdamW's eps after clipping), not an error (training's README). This test
  // keeps the other half of the evidence: started from PyTorch's own first update, step 1 matches.
  it('matches PyTorch at step 1 when it starts from the first update PyTorch made', async () => {
    await useBackend('wasm');
    await enableGradients();
    const dir = `${FIXTURES}bart`;
    const reference = readJson<TrainingReferenceJson>(`${dir}/training.json`);
    const tensors = await openSafetensors(`${dir}/training.safetensors`);
    const model = await loadModel('bart');
    const { lr, weight_decay, eps, max_grad_norm } = reference.hyperparameters;
    const clip = Math.min(1, max_grad_norm / (reference.grad_norms_before_clipping[0]! + 1e-6));
    const byName = new Map(model.namedParameters());
    for (const name of reference.parameters) {
      if (reference.unused_parameters.includes(name)) continue;
      const parameter = byName.get(name)!;
      const weight = parameter.checkpointValue();
      const gradient = await tensors.read(`grad.${name}`);
      // AdamW's first step from zero moments (m̂ = g, v̂ = g²): p·(1 − lr·wd) − lr·g / (|g| + eps)
      const updated = tf.tidy(() => {
        const g = tf.mul(gradient, clip);
        const step = tf.mul(lr, tf.div(g, tf.add(tf.abs(g), eps)));
        return tf.sub(tf.mul(weight, 1 - lr * weight_decay), step);
      });
      tf.dispose([weight, gradient]);
      parameter.assign(updated);
    }
    const batch = batchOf(reference);
    const trainable = model.makeTrainable().map(([, parameter]) => parameter);
    const { loss, gradients } = lossAndGradients(trainable, () => languageModelLoss(model, batch));
    const clipped = clipGradNorm(gradients, max_grad_norm);
    const [lossValue, norm] = [(await loss.data())[0]!, (await clipped.totalNorm.data())[0]!];
    tf.dispose([loss, clipped.totalNorm, ...gradients.values(), ...clipped.gradients.values()]);
    tf.dispose(Object.values(batch));
    model.dispose();
    expect(Math.abs(lossValue / reference.losses[1]! - 1)).toBeLessThan(1e-5);
    expect(Math.abs(norm / reference.grad_norms_before_clipping[1]! - 1)).toBeLessThan(1e-4);
  }, 300_000);
});

describe('training steps', () => {
  it('leave tf.memory() flat: 20 AdamW steps on llama and on t5', async () => {
    await useBackend('wasm');
    await enableGradients();
    for (const folder of ['llama', 't5']) {
      const model = await loadModel(folder);
      const batch = batchOf(readJson<TrainingReferenceJson>(`${FIXTURES}${folder}/training.json`));
      const optimizer = new AdamW(
        model.makeTrainable().map(([, parameter]) => parameter),
        { learningRate: 1e-3 },
      );
      const counts: number[] = [];
      const losses: number[] = [];
      for (let step = 0; step < 20; step++) {
        const { loss, gradNorm } = trainStep(model, batch, optimizer, { maxGradNorm: 1 });
        losses.push((await loss.data())[0]!);
        tf.dispose([loss, gradNorm!]);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts.slice(1)).size, `${folder}: ${counts}`).toBe(1);
      expect(losses[19]!).toBeLessThan(losses[0]!);
      optimizer.dispose();
      tf.dispose(Object.values(batch));
      model.dispose();
    }
  }, 300_000);
});
