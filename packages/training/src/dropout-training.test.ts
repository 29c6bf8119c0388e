// Training mode: dropout on the hidden states and on the attention probabilities, seeded and
// reproducible, gradients flowing through it; eval mode is PyTorch's dropout-free training.
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, openSafetensors, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import type { PretrainedCausalLM } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchOf, FIXTURES, loadModel, readJson } from '../test/reference-folders.js';
import { lossAndGradients } from './gradients.js';
import {
  checkTrainingReference,
  type Float64TrainingJson,
  type TrainingReferenceJson,
} from './testing/index.js';
import { languageModelLoss, type TrainableLanguageModel } from './training-batch.js';

const reference = readJson<TrainingReferenceJson>(`${FIXTURES}gpt2/training.json`);
const RATE = 0.3;

beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
});

/** Loss and its gradient norm for the reference batch, in the model's current mode. */
async function lossAndNorm(model: TrainableLanguageModel): Promise<[number, number]> {
  const batch = batchOf(reference);
  const parameters = model.makeTrainable().map(([, parameter]) => parameter);
  const { loss, gradients } = lossAndGradients(parameters, () => languageModelLoss(model, batch));
  const squares = tf.tidy(() => tf.addN([...gradients.values()].map((g) => tf.sum(tf.square(g)))));
  const [value, sumOfSquares] = [(await loss.data())[0]!, (await squares.data())[0]!];
  tf.dispose([loss, squares, ...gradients.values(), ...Object.values(batch)]);
  return [value, Math.sqrt(sumOfSquares)];
}

describe('gpt2 (attn_pdrop, embd_pdrop and resid_pdrop 0.1) in training and eval mode', () => {
  it('trains as PyTorch does in eval mode, after a spell in training mode', async () => {
    const model = await loadModel('gpt2');
    try {
      model.train({ seed: 1 });
      for (const value of await lossAndNorm(model)) expect(Number.isFinite(value)).toBe(true);
      model.eval();
      const dir = `${FIXTURES}gpt2`;
      const float64 = {
        json: readJson<Float64TrainingJson>(`${dir}/training-float64.json`),
        tensors: await openSafetensors(`${dir}/training-float64.safetensors`),
      };
      const tensors = await openSafetensors(`${dir}/training.safetensors`);
      const checks = await checkTrainingReference(model, reference, tensors, float64);
      expect(checks.filter((check) => !check.pass).map((check) => check.name)).toEqual([]);
    } finally {
      model.dispose();
    }
  }, 300_000);

  it('draws seeded masks in training mode: the same seed gives the same loss and gradients', async () => {
    const model = await loadModel('gpt2');
    try {
      await expectNoLeak(async () => {
        const evalRun = await lossAndNorm(model.eval());
        const first = await lossAndNorm(model.train({ seed: 5 }));
        const again = await lossAndNorm(model.train({ seed: 5 }));
        const next = await lossAndNorm(model); // the stream goes on: new masks
        const other = await lossAndNorm(model.train({ seed: 6 }));
        expect(again).toEqual(first);
        for (const different of [evalRun, next, other]) expect(different[0]).not.toBe(first[0]);
        // gradients flow through the masks: finite, and not eval mode's
        expect(Number.isFinite(first[1]) && first[1] > 0).toBe(true);
        expect(Math.abs(first[1] - evalRun[1])).toBeGreaterThan(1e-3);
      });
    } finally {
      model.dispose();
    }
  }, 300_000);

  it('zeroes embeddings and attention probabilities at the configured rate, rescaling the rest', async () => {
    const model = (await loadModel('gpt2', {
      attn_pdrop: RATE,
      embd_pdrop: RATE,
    })) as unknown as PretrainedCausalLM;
    const batch = batchOf(reference);
    const forward = () =>
      model.forward(batch.inputIds, {
        attentionMask: batch.attentionMask,
        outputHiddenStates: true,
        outputAttentions: true,
      });
    try {
      const plain = forward();
      model.train({ seed: 11 });
      const dropped = forward();
      const [embedded, embeddedPlain] = [
        await dropped.hiddenStates![0]!.data(),
        await plain.hiddenStates![0]!.data(),
      ];
      let zeros = 0;
      for (let i = 0; i < embedded.length; i++) {
        if (embedded[i] === 0) zeros++;
        else expect(embedded[i]).toBeCloseTo(embeddedPlain[i]! / (1 - RATE), 5);
      }
      // [batch, seq, hidden] = 2 × 16 × 32: the zero fraction's standard deviation is 0.014
      expect(zeros / embedded.length).toBeGreaterThan(RATE - 0.06);
      expect(zeros / embedded.length).toBeLessThan(RATE + 0.06);
      const mask = reference.batch.attention_mask;
      let [kept, attended] = [0, 0];
      for (const layer of dropped.attentions!) {
        const [, heads, queries, keys] = layer.shape;
        const probabilities = await layer.data();
        for (let i = 0; i < probabilities.length; i++) {
          const key = i % keys;
          const query = Math.floor(i / keys) % queries;
          const row = Math.floor(i / (keys * queries * heads));
          if (key > query || mask[row]![key] === 0) continue; // never attended: zero without dropout too
          attended++;
          if (probabilities[i] !== 0) kept++;
        }
      }
      expect(attended).toBeGreaterThan(500);
      expect(1 - kept / attended).toBeGreaterThan(RATE - 0.08);
      expect(1 - kept / attended).toBeLessThan(RATE + 0.08);
      tf.dispose(
        [plain, dropped].flatMap((output) => [output.logits, ...output.hiddenStates!, ...output.attentions!]),
      );
    } finally {
      tf.dispose(Object.values(batch));
      model.dispose();
    }
  }, 300_000);
});
