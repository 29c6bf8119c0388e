import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, openSafetensors, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { getModelFamily } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { accumulatedLossAndGradients, countLossTokens } from './gradient-accumulation.js';
import { lossAndGradients } from './gradients.js';
import { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from './training-batch.js';

const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;

beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
});

async function loadModel(folder: string): Promise<TrainableLanguageModel> {
  const dir = `${FIXTURES}${folder}`;
  const raw = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as Record<string, unknown>;
  const family = getModelFamily(raw.model_type);
  const model = family.createModel(family.resolveConfig(raw)) as unknown as TrainableLanguageModel;
  await family.loadWeights(model, await openSafetensors(dir));
  return model;
}

/** Rows of ids with `pad` trailing positions each (attention 0, labels -100). */
function batchOf(rows: number[][], pads: number[]): TrainingBatch {
  const width = rows[0]!.length;
  const mask = pads.map((pad) => Array.from({ length: width }, (_, i) => (i < width - pad ? 1 : 0)));
  const labels = rows.map((row, r) => row.map((id, i) => (mask[r]![i] ? id : -100)));
  return {
    inputIds: tf.tensor2d(rows, [rows.length, width], 'int32'),
    attentionMask: tf.tensor2d(mask, [rows.length, width], 'int32'),
    labels: tf.tensor2d(labels, [rows.length, width], 'int32'),
  };
}

const ROWS = [
  [5, 9, 14, 3, 22, 7],
  [11, 4, 8, 30, 2, 2],
  [6, 6, 19, 12, 2, 2],
  [27, 3, 5, 9, 10, 18],
];
const PADS = [0, 2, 3, 0];

describe.each(['llama', 'bart'])('gradient accumulation on %s', (folder) => {
  it('two micro-batches with uneven padding give the loss and gradients of one big batch', async () => {
    const model = await loadModel(folder);
    const parameters = model.makeTrainable().map(([, parameter]) => parameter);
    const whole = batchOf(ROWS, PADS);
    const halves = [batchOf(ROWS.slice(0, 2), PADS.slice(0, 2)), batchOf(ROWS.slice(2), PADS.slice(2))];
    languageModelLoss(model, whole).dispose(); // fills kept tables before counting tensors
    await expectNoLeak(async () => {
      const big = lossAndGradients(parameters, () => languageModelLoss(model, whole));
      const accumulated = await accumulatedLossAndGradients(model, halves, parameters);
      const counted = model.kind === 'causal-lm' ? 6 + 4 + 3 + 6 - 4 : 6 + 4 + 3 + 6;
      expect(accumulated.tokens).toBe(counted);
      expect((await accumulated.loss.data())[0]).toBeCloseTo((await big.loss.data())[0]!, 5);
      expect(accumulated.gradients.size).toBe(big.gradients.size);
      for (const [parameter, gradient] of big.gradients) {
        assertClose(accumulated.gradients.get(parameter)!, gradient, 1e-6, 'gradient');
      }
      tf.dispose([big.loss, accumulated.loss, ...big.gradients.values(), ...accumulated.gradients.values()]);
    });
    tf.dispose([...Object.values(whole), ...halves.flatMap((batch) => Object.values(batch))]);
    model.dispose();
  });
});

describe('countLossTokens', () => {
  it('counts labels other than -100, past the first position for a decoder-only model', async () => {
    const model = await loadModel('llama');
    const batch = batchOf([[1, 2, 3, 4]], [1]);
    expect(await countLossTokens(model, batch)).toBe(2);
    tf.dispose(Object.values(batch));
    model.dispose();
  });
});
