import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, useBackend } from '@tsformer/core-tensor';
import { fromPretrained, type Pretrained } from '@tsformer/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from './gradients.js';
import { SGD } from './sgd.js';
import { Trainer, type TrainerOptions, type TrainingLogEntry } from './trainer.js';
import { languageModelLoss } from './training-batch.js';
import type { TrainingDataset } from './training-dataset.js';

const LLAMA = new URL('../../../fixtures/hf-reference/llama', import.meta.url).pathname;

let scratch: string;
beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-trainer-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** `count` two-row batches of random ids, the second row right-padded by `b % 3`. */
function dataset(count: number, offset = 0): TrainingDataset {
  return {
    length: count,
    batch(index) {
      const rows = [0, 1].map((row) =>
        Array.from({ length: 7 }, (_, i) => ((index + offset) * 31 + row * 7 + i * 13) % 200),
      );
      const pad = index % 3;
      const mask = rows.map((_, r) => rows[0]!.map((__, i) => (r === 1 && i >= 7 - pad ? 0 : 1)));
      const labels = rows.map((row, r) => row.map((id, i) => (mask[r]![i] ? id : -100)));
      return {
        inputIds: tf.tensor2d(rows, [2, 7], 'int32'),
        attentionMask: tf.tensor2d(mask, [2, 7], 'int32'),
        labels: tf.tensor2d(labels, [2, 7], 'int32'),
      };
    },
  };
}

const OPTIONS: TrainerOptions = {
  learningRate: 1e-3,
  weightDecay: 0.01,
  scheduler: 'cosine',
  warmupSteps: 2,
  gradientAccumulationSteps: 2,
  maxSteps: 6,
  seed: 7,
};

async function weightsOf(pretrained: Pretrained): Promise<Float32Array[]> {
  return Promise.all(pretrained.model.parameters().map(async (p) => (await p.tensor.data()) as Float32Array));
}

function losses(log: TrainingLogEntry[]): number[] {
  return log.filter((entry) => entry.kind === 'train').map((entry) => entry.loss);
}

describe('Trainer', () => {
  it('resumed from a checkpoint, continues bit for bit as the uninterrupted run', async () => {
    const outputDir = join(scratch, 'run');
    const straight = await fromPretrained(LLAMA);
    const uninterrupted = new Trainer(straight, dataset(5), { ...OPTIONS, saveSteps: 3, outputDir });
    await uninterrupted.train();
    expect(uninterrupted.state.globalStep).toBe(6);
    // 5 batches, 2 per step: 3 steps per epoch (the last one a single batch), 2 epochs.
    expect(uninterrupted.state.epoch).toBe(2);
    const state = JSON.parse(await readFile(join(outputDir, 'checkpoint-3', 'trainer_state.json'), 'utf8'));
    expect(state.global_step).toBe(3);

    const again = await fromPretrained(LLAMA);
    const resumed = new Trainer(again, dataset(5), OPTIONS);
    await resumed.resumeFrom(join(outputDir, 'checkpoint-3'));
    expect(resumed.optimizer.learningRate).toBe(
      (uninterrupted.state.logHistory[3] as { learningRate: number }).learningRate,
    );
    await resumed.train();
    expect(losses(resumed.state.logHistory)).toEqual(losses(uninterrupted.state.logHistory));
    const [expected, actual] = [await weightsOf(straight), await weightsOf(again)];
    for (const [i, values] of expected.entries()) expect(actual[i]).toEqual(values);
    for (const run of [uninterrupted, resumed]) run.optimizer.dispose();
    straight.model.dispose();
    again.model.dispose();
  });

  it('keeps tf.memory() flat over 100 steps and evaluates loss and perplexity over the eval data', async () => {
    const pretrained = await fromPretrained(LLAMA);
    const counts: number[] = [];
    const evalData = dataset(2, 100);
    const trainer = new Trainer(pretrained, dataset(4), {
      ...OPTIONS,
      gradientAccumulationSteps: 1,
      maxSteps: 100,
      evalData,
      evalSteps: 50,
      onLog: (entry) => {
        if (entry.kind === 'train') counts.push(tf.memory().numTensors);
      },
    });
    const before = await trainer.evaluate();
    await trainer.train();
    // Step 1 creates AdamW's moments; from then on nothing accumulates.
    expect(new Set(counts.slice(1)).size).toBe(1);
    const evaluations = trainer.state.logHistory.filter((entry) => entry.kind === 'eval');
    expect(counts).toHaveLength(100);
    expect(evaluations.map((entry) => entry.step)).toEqual([50, 100]);
    const after = evaluations[1]!;
    expect(after.kind === 'eval' && after.perplexity).toBeCloseTo(Math.exp(after.loss), 10);
    expect(after.loss).not.toBe(before.loss);
    // The eval loss is the token-weighted mean of the batches' losses.
    expect(after.tokens).toBe(before.tokens);
    trainer.optimizer.dispose();
    pretrained.model.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it('with maxGradNorm 0 does not clip: one step equals an unclipped SGD step', async () => {
    const [viaTrainer, byHand] = [await fromPretrained(LLAMA), await fromPretrained(LLAMA)];
    const data = dataset(1);
    const trainer = new Trainer(viaTrainer, data, {
      createOptimizer: (parameters) => new SGD(parameters, { learningRate: 1e-2 }),
      scheduler: 'constant',
      maxGradNorm: 0,
      maxSteps: 1,
    });
    await trainer.train();
    const gradNorm = (trainer.state.logHistory[0] as { gradNorm: number }).gradNorm;
    expect(gradNorm).toBeGreaterThan(1);

    const parameters = byHand.model.makeTrainable().map(([, parameter]) => parameter);
    const optimizer = new SGD(parameters, { learningRate: 1e-2 });
    const batch = data.batch(0);
    const { loss, gradients } = lossAndGradients(parameters, () =>
      languageModelLoss(byHand.model as never, batch),
    );
    optimizer.step(gradients);
    tf.dispose([loss, ...gradients.values(), ...Object.values(batch)]);
    const [expected, actual] = [await weightsOf(byHand), await weightsOf(viaTrainer)];
    for (const [i, values] of expected.entries()) expect(actual[i]).toEqual(values);
    for (const done of [trainer.optimizer, optimizer]) done.dispose();
    viaTrainer.model.dispose();
    byHand.model.dispose();
  });
});
