// The classic Transformer (Vaswani et al.) trained from scratch on a small sequence task: it must
// learn to reverse its input, and 100+ training steps must leave tf.memory() flat.
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { getModelFamily, type PretrainedSeq2SeqLM } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { trainStep } from './train-step.js';
import type { TrainableLanguageModel, TrainingBatch } from './training-batch.js';

const [PAD, EOS, FIRST_SYMBOL, VOCAB] = [0, 2, 3, 13];
const LENGTH = 6;

const CONFIG = {
  model_type: 'transformer',
  source_vocab_size: VOCAB,
  target_vocab_size: VOCAB,
  d_model: 32,
  num_attention_heads: 4,
  ffn_dim: 64,
  encoder_layers: 1,
  decoder_layers: 1,
  max_position_embeddings: 16,
  dropout: 0.1,
  pad_token_id: PAD,
  eos_token_id: EOS,
};

beforeAll(async () => {
  await useBackend('wasm');
  await enableGradients();
});

/** HF's `_init_weights` for BART-like models: normal(0, std) matrices, LayerNorms 1 and 0, biases 0. */
function initializeFromScratch(model: PretrainedSeq2SeqLM, seed: number, std: number): void {
  const random = new SeededRandom(seed);
  for (const [name, parameter] of model.namedParameters()) {
    if (!parameter.requiresGrad) continue; // the sinusoid tables
    const isNorm = /(layer_?norm[^.]*)\.weight$/.test(name);
    const values = name.endsWith('.bias')
      ? new Float32Array(parameter.size)
      : isNorm
        ? new Float32Array(parameter.size).fill(1)
        : random.normalArray(parameter.size, std);
    parameter.assign(tf.tensor(values, [...parameter.shape]));
  }
}

/** `rows` random sequences of LENGTH symbols: source `x EOS`, labels `reverse(x) EOS`. */
function reversalBatch(random: SeededRandom, rows: number): TrainingBatch {
  const sources: number[][] = [];
  const targets: number[][] = [];
  for (let row = 0; row < rows; row++) {
    const symbols = Array.from(
      { length: LENGTH },
      () => FIRST_SYMBOL + Math.floor(random.uniform() * (VOCAB - FIRST_SYMBOL)),
    );
    sources.push([...symbols, EOS]);
    targets.push([...symbols].reverse().concat(EOS));
  }
  return {
    inputIds: tf.tensor2d(sources, [rows, LENGTH + 1], 'int32'),
    attentionMask: tf.ones([rows, LENGTH + 1], 'int32'),
    labels: tf.tensor2d(targets, [rows, LENGTH + 1], 'int32'),
  };
}

/** Teacher-forced token accuracy of `model` (eval mode) on `batch`. */
async function tokenAccuracy(model: PretrainedSeq2SeqLM, batch: TrainingBatch): Promise<number> {
  const correct = tf.tidy(() => {
    const { logits } = model.forward({ ...batch });
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), batch.labels), 'float32'));
  });
  const accuracy = (await correct.data())[0]!;
  correct.dispose();
  return accuracy;
}

describe('the classic Transformer from scratch', () => {
  it('learns to reverse sequences to 99 % token accuracy, with tf.memory() flat over its steps', async () => {
    const family = getModelFamily('transformer');
    const model = family.createModel(family.resolveConfig(CONFIG)) as unknown as PretrainedSeq2SeqLM;
    initializeFromScratch(model, 1, 0.1);
    const data = new SeededRandom(2);
    const heldOut = reversalBatch(new SeededRandom(3), 64);
    const optimizer = new AdamW(
      model.makeTrainable().map(([, parameter]) => parameter),
      { learningRate: 3e-3, weightDecay: 0.01 },
    );
    const tensorCounts: number[] = [];
    let [steps, accuracy] = [0, 0];
    try {
      while (steps < 100 || (steps < 600 && accuracy < 0.99)) {
        model.train({ seed: 4 + steps });
        for (let i = 0; i < 50; i++, steps++) {
          const batch = reversalBatch(data, 32);
          const { loss, gradNorm } = trainStep(model as unknown as TrainableLanguageModel, batch, optimizer, {
            maxGradNorm: 1,
          });
          tf.dispose([loss, gradNorm!, ...Object.values(batch)]);
          tensorCounts.push(tf.memory().numTensors);
        }
        accuracy = await tokenAccuracy(model.eval(), heldOut);
      }
      expect(accuracy, `after ${steps} steps`).toBeGreaterThanOrEqual(0.99);
      expect(steps).toBeGreaterThanOrEqual(100);
      // every step after the first (which creates AdamW's moments) ends with the same tensors alive
      expect(new Set(tensorCounts.slice(1)).size).toBe(1);
    } finally {
      optimizer.dispose();
      tf.dispose(Object.values(heldOut));
      model.dispose();
    }
  }, 120_000);
});
