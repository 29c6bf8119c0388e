import * as tf from '@tensorflow/tfjs-core';
import { useBackend, weightsFromTensors } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { PositionOutOfRangeError } from '@tsformer/layers';
import { type Checkpoint, randomCheckpoint } from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../test/decoder-fixtures.js';
import { type ReferenceGPT2, referenceGPT2Logits } from '../../test/reference-forward.js';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { UnsupportedConfigError } from '../errors.js';
import { type GPT2Config, resolveGPT2Config } from './gpt2-config.js';
import { GPT2LMHeadModel } from './gpt2-model.js';
import { gpt2CheckpointName, loadGPT2Weights } from './gpt2-weights.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const tiny: RawConfig = {
  model_type: 'gpt2',
  vocab_size: 40,
  n_positions: 16,
  n_embd: 24,
  n_layer: 3,
  n_head: 4,
  bos_token_id: 0,
  eos_token_id: 0,
};
const prompt = [5, 9, 33, 2, 2, 17, 38, 11, 0];

const formulas: Record<string, (x: number) => number> = {
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  relu: (x) => Math.max(0, x),
  silu: (x) => x / (1 + Math.exp(-x)),
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  tanh: Math.tanh,
};

function specOf(config: GPT2Config, headMask?: number[][]): ReferenceGPT2 {
  return {
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    innerSize: config.innerSize,
    layers: config.numHiddenLayers,
    heads: config.numAttentionHeads,
    eps: config.layerNormEpsilon,
    tied: config.tieWordEmbeddings,
    scaleAttentionWeights: config.scaleAttentionWeights,
    scaleByInverseLayerIndex: config.scaleAttentionByInverseLayerIndex,
    activation: formulas[config.activationFunction]!,
    headMask,
  };
}

function logitsOf(model: GPT2LMHeadModel, tokens: number[], headMask?: tf.Tensor): number[][] {
  return tf.tidy(() => (model.forward(ids([tokens]), { headMask }).logits.arraySync() as number[][][])[0]!);
}

function run(
  raw: RawConfig,
  seed: number,
): { config: GPT2Config; logits: number[][]; checkpoint: Checkpoint } {
  const config = resolveGPT2Config(raw);
  const model = new GPT2LMHeadModel(config);
  const checkpoint = randomCheckpoint(model, seed);
  const logits = logitsOf(model, prompt);
  model.dispose();
  return { config, logits, checkpoint };
}

describe('GPT-2 configurations against a float64 reference', () => {
  it.each([
    ['default scaling, gelu_new', {}],
    [
      'no 1/√d scaling, relu, n_inner 20',
      { scale_attn_weights: false, activation_function: 'relu', n_inner: 20 },
    ],
    ['1/(layer + 1) scaling, silu', { scale_attn_by_inverse_layer_idx: true, activation_function: 'silu' }],
    [
      'reorder_and_upcast_attn, quick_gelu',
      { reorder_and_upcast_attn: true, activation_function: 'quick_gelu' },
    ],
    ['untied lm_head, tanh', { tie_word_embeddings: false, activation_function: 'tanh' }],
  ])('%s', async (_label, change) => {
    await expectNoLeak(() => {
      const { config, logits, checkpoint } = run({ ...tiny, ...change }, 11);
      assertClose(
        logits.flat(),
        referenceGPT2Logits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
    });
  });

  it('reorder_and_upcast_attn gives what the plain path gives (float32 either way)', async () => {
    await expectNoLeak(() => {
      const plain = run({ ...tiny, scale_attn_by_inverse_layer_idx: true }, 12).logits;
      const reordered = run(
        { ...tiny, scale_attn_by_inverse_layer_idx: true, reorder_and_upcast_attn: true },
        12,
      ).logits;
      assertClose(reordered.flat(), plain.flat(), 1e-6, 'reordered logits');
    });
  });

  it('applies a [layers, heads] head mask as the reference does', async () => {
    await expectNoLeak(() => {
      const config = resolveGPT2Config(tiny);
      const model = new GPT2LMHeadModel(config);
      const checkpoint = randomCheckpoint(model, 13);
      const mask = [
        [1, 0, 1, 1],
        [0.5, 1, 1, 0],
        [1, 1, 1, 1],
      ];
      const headMask = tf.tensor2d(mask);
      const logits = logitsOf(model, prompt, headMask);
      assertClose(
        logits.flat(),
        referenceGPT2Logits(specOf(config, mask), checkpoint, prompt).flat(),
        1e-4,
        'masked',
      );
      const [wrong, input] = [tf.ones([3]), ids([prompt])];
      expect(() => model.forward(input, { headMask: wrong })).toThrow(
        /headMask must be \[4\] or \[3, 4\], got \[3\]/,
      );
      tf.dispose([headMask, wrong, input]);
      model.dispose();
    });
  });
});

describe('GPT2LMHeadModel.pruneHeads', () => {
  it('equals the unpruned model with those heads masked, with fewer parameters and an updated config', async () => {
    await expectNoLeak(() => {
      const model = new GPT2LMHeadModel(resolveGPT2Config(tiny));
      randomCheckpoint(model, 14);
      const once = model.pruneHeads({ 0: [1], 2: [0, 3] });
      const pruned = once.pruneHeads({ 0: [2] }); // numbering stays the original one
      expect(pruned.config.prunedHeads).toEqual({ 0: [1, 2], 2: [0, 3] });
      const headDim = 6;
      // Each head: its q/k/v columns of c_attn (weight and bias) and its rows of c_proj.
      expect(model.numParameters() - pruned.numParameters()).toBe(
        4 * (24 * 3 * headDim + 3 * headDim + headDim * 24),
      );
      const mask = tf.tensor2d([
        [1, 0, 0, 1],
        [1, 1, 1, 1],
        [0, 1, 1, 0],
      ]);
      assertClose(
        logitsOf(pruned, prompt).flat(),
        logitsOf(model, prompt, mask).flat(),
        1e-5,
        'pruned logits',
      );
      mask.dispose();
      for (const built of [model, once, pruned]) built.dispose();
    });
  });

  it('builds pruned shapes from config.json pruned_heads, so a pruned checkpoint loads', async () => {
    await expectNoLeak(async () => {
      const model = new GPT2LMHeadModel(resolveGPT2Config(tiny));
      randomCheckpoint(model, 15);
      const pruned = model.pruneHeads({ 1: [3] });
      const transposedBack: tf.Tensor[] = [];
      const saved = Object.fromEntries(
        pruned.namedParameters().map(([name, p]) => {
          if (!p.transposed) return [name, p.tensor];
          const checkpointLayout = tf.transpose(p.tensor);
          transposedBack.push(checkpointLayout);
          return [name, checkpointLayout];
        }),
      );
      const reloaded = new GPT2LMHeadModel(resolveGPT2Config({ ...tiny, pruned_heads: { '1': [3] } }));
      await loadGPT2Weights(reloaded, weightsFromTensors(saved));
      tf.dispose(transposedBack);
      assertClose(logitsOf(reloaded, prompt).flat(), logitsOf(pruned, prompt).flat(), 0, 'reloaded logits');
      for (const built of [model, pruned, reloaded]) built.dispose();
    });
  });

  it('refuses to prune every head of a layer, or a head that does not exist', () => {
    const model = new GPT2LMHeadModel(resolveGPT2Config(tiny));
    expect(() => model.pruneHeads({ 0: [0, 1, 2, 3] })).toThrow(/layer 0 would have no head left/);
    expect(() => model.pruneHeads({ 5: [0] })).toThrow(/pruneHeads: layer 5/);
  });
});

describe('GPT-2 checkpoints, positions and config errors', () => {
  it('maps old checkpoint names (no transformer. prefix) and ignores attention-mask buffers', () => {
    expect(gpt2CheckpointName('h.0.attn.c_attn.weight')).toBe('transformer.h.0.attn.c_attn.weight');
    expect(gpt2CheckpointName('wte.weight')).toBe('transformer.wte.weight');
    expect(gpt2CheckpointName('h.11.attn.bias')).toBeNull();
    expect(gpt2CheckpointName('transformer.h.2.attn.masked_bias')).toBeNull();
    expect(gpt2CheckpointName('h.0.attn.c_attn.bias')).toBe('transformer.h.0.attn.c_attn.bias');
    expect(gpt2CheckpointName('lm_head.weight')).toBe('lm_head.weight');
  });

  it('raises PositionOutOfRangeError past n_positions, with or without a cache', async () => {
    await expectNoLeak(() => {
      const model = new GPT2LMHeadModel(resolveGPT2Config(tiny));
      expect(model.positionLimit).toEqual({ maxPositions: 16, kind: 'learned' });
      randomCheckpoint(model, 16);
      const long = ids([Array.from({ length: 17 }, (_, i) => i % 40)]);
      expect(() => model.forward(long)).toThrow(PositionOutOfRangeError);
      const cache = model.createCache(1, 32);
      const prefill = ids([Array.from({ length: 16 }, (_, i) => i)]);
      tf.dispose(model.forward(prefill, { cache }).logits);
      const next = ids([[1]]);
      expect(() => model.forward(next, { cache })).toThrow(
        /position 16 is outside the learned position table of 16/,
      );
      tf.dispose([long, prefill, next]);
      cache.dispose();
      model.dispose();
    });
  });

  it('names bad fields, and refuses add_cross_attention', () => {
    expect(() => resolveGPT2Config({ ...tiny, add_cross_attention: true })).toThrow(UnsupportedConfigError);
    expect(() => resolveGPT2Config({ ...tiny, activation_function: 'gelu_nope' })).toThrow(
      /gpt2 config: activation_function "gelu_nope" is not a supported activation/,
    );
    expect(() => resolveGPT2Config({ ...tiny, n_inner: 0 })).toThrow(ConfigFieldError);
    expect(() => resolveGPT2Config({ ...tiny, pruned_heads: { '0': [4] } })).toThrow(
      /gpt2 config: pruned_heads entry "0"/,
    );
    expect(resolveGPT2Config({ ...tiny, n_embd: undefined, hidden_size: 48 }).hiddenSize).toBe(48);
  });
});
