// The activation estimate of trainingMemory against the peak bytes tfjs holds during a real
// lossAndGradients, for fixture-sized models of several families at several batch and seq sizes.
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, type Module, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak, randomWeights } from '@tsformer/core-tensor/testing';
import { getModelFamily } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readJson } from '../test/reference-folders.js';
import { lossAndGradients } from './gradients.js';
import { languageModelLoss, type TrainableLanguageModel } from './training-batch.js';
import { trainingMemory } from './training-memory.js';

/** What the engine counts (tf.memory().numBytes), read as each tensor is registered. */
interface EngineInternals {
  state: { numBytes: number };
  trackTensor(tensor: tf.Tensor, backend: unknown): void;
}

/** Runs `step` and returns the most bytes tfjs held at any moment, above what it held before. */
function peakBytesAbove(step: () => void): number {
  const engine = tf.engine() as unknown as EngineInternals;
  const before = engine.state.numBytes;
  let peak = before;
  const track = engine.trackTensor;
  engine.trackTensor = function (this: EngineInternals, tensor, backend) {
    track.call(this, tensor, backend);
    peak = Math.max(peak, this.state.numBytes);
  };
  try {
    step();
  } finally {
    engine.trackTensor = track;
  }
  return peak - before;
}

/** The bundled tiny-llama-docs: wider (hidden 288, 6 layers, tied 4,096-token table) than the fixtures. */
const TINY_LLAMA_DOCS = new URL('../../../models/tiny-llama-docs/', import.meta.url).pathname;

/** Folder, batch, seq: gpt2's 50,257-token vocabulary keeps its batches small. */
const CASES: [string, number, number][] = [
  ['tiny-llama-docs', 2, 64],
  ['llama', 1, 8],
  ['llama', 4, 48],
  ['qwen3', 2, 16],
  ['qwen3', 3, 64],
  ['gemma2', 2, 24],
  ['gpt_neox', 2, 32],
  ['phi3', 2, 20],
  ['gpt2', 1, 12],
  ['gpt2', 2, 40],
  ['bart', 2, 16],
  ['bart', 3, 40],
  ['marian', 2, 24],
  ['t5', 2, 16],
  ['t5', 4, 40],
];

beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
});

describe.each(CASES)('trainingMemory of %s at batch %i × seq %i', (folder, batch, seq) => {
  it('estimates the activations a training step holds at its peak within ±25 %', async () => {
    const dir = folder === 'tiny-llama-docs' ? TINY_LLAMA_DOCS : `${FIXTURES}${folder}/`;
    const raw = readJson<Record<string, unknown>>(`${dir}config.json`);
    const family = getModelFamily(raw.model_type);
    const config = family.resolveConfig(raw);
    const estimate = trainingMemory(family.describe(config), { batch, seq });
    const model = family.createModel(config) as unknown as TrainableLanguageModel & Module;
    randomWeights(model, 1);
    const vocab = family.describe(config).vocabSize;
    const ids = tf.tensor2d(
      Array.from({ length: batch * seq }, (_, i) => (i * 7919) % vocab),
      [batch, seq],
      'int32',
    ) as tf.Tensor2D;
    const trainingBatch = { inputIds: ids, labels: ids };
    try {
      languageModelLoss(model, trainingBatch).dispose(); // builds the kept tables (rotary) first
      await expectNoLeak(() => {
        const parameters = model.parameters();
        let gradientBytes = 0;
        const peak = peakBytesAbove(() => {
          const { loss, gradients } = lossAndGradients(parameters, () =>
            languageModelLoss(model, trainingBatch),
          );
          for (const gradient of gradients.values()) gradientBytes += gradient.size * 4;
          tf.dispose([loss, ...gradients.values()]);
        });
        const measured = peak - gradientBytes;
        // HF's count leaves BART's final_logits_bias (a buffer there, a parameter here) out.
        expect(Math.abs(estimate.gradientBytes / gradientBytes - 1)).toBeLessThan(0.02);
        const ratio = estimate.activations.total / measured;
        expect(ratio).toBeGreaterThan(0.75);
        expect(ratio).toBeLessThan(1.25);
      });
    } finally {
      ids.dispose();
      model.dispose();
    }
  }, 120_000);
});

describe('trainingMemory', () => {
  const raw = readJson<Record<string, unknown>>(`${FIXTURES}bart/config.json`);
  const family = getModelFamily(raw.model_type);
  const description = family.describe(family.resolveConfig(raw));

  it('counts one gradient per parameter and AdamW two states, SGD one with momentum and none without', () => {
    const parameterBytes = 4 * description.parameterCount;
    const adamw = trainingMemory(description, { batch: 2, seq: 8 });
    expect(adamw.parameterBytes).toBe(parameterBytes);
    expect(adamw.gradientBytes).toBe(parameterBytes);
    expect(adamw.optimizerStateBytes).toBe(2 * parameterBytes);
    expect(
      trainingMemory(description, { batch: 2, seq: 8, optimizer: 'sgd-momentum' }).optimizerStateBytes,
    ).toBe(parameterBytes);
    expect(trainingMemory(description, { batch: 2, seq: 8, optimizer: 'sgd' }).optimizerStateBytes).toBe(0);
    expect(adamw.totalBytes).toBe(4 * parameterBytes + adamw.activations.total);
  });

  it('lists every encoder and decoder layer, and grows with the tokens', () => {
    const small = trainingMemory(description, { batch: 1, seq: 8 });
    const large = trainingMemory(description, { batch: 2, seq: 8 });
    expect(small.activations.layers.map((layer) => layer.name)).toEqual([
      'encoder.0',
      'encoder.1',
      'decoder.0',
      'decoder.1',
    ]);
    expect(large.activations.headAndLossBytes).toBe(2 * small.activations.headAndLossBytes);
    expect(large.activations.layers[0]!.scoreBytes).toBe(2 * small.activations.layers[0]!.scoreBytes);
  });

  it('rejects a batch or seq that is not a whole number of at least 1, and an unknown family', () => {
    expect(() => trainingMemory(description, { batch: 0, seq: 8 })).toThrow(/whole batch and seq/);
    expect(() => trainingMemory({ ...description, modelType: 'mamba' }, { batch: 1, seq: 8 })).toThrow(
      /no activation counts for model_type "mamba"/,
    );
  });
});
