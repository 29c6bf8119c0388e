// Qwen3 configurations the fixture does not cover, each against an independent float64 forward:
// untied heads and attention biases, sliding-window layers (whole and through the caches), yarn RoPE
// in both config spellings, and half-precision copies of the fixture's checkpoint.
import * as tf from '@tensorflow/tfjs-core';
import { SlidingWindowLayerCache } from '@tsformer/cache';
import {
  openSafetensors,
  openSafetensorsBytes,
  type SafetensorsDtype,
  serializeSafetensors,
  useBackend,
} from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  type Checkpoint,
  defaultInverseFrequencies,
  randomCheckpoint,
  ropeRotation,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, ids, readJson } from '../../test/decoder-fixtures.js';
import { type ReferenceLlama, referenceLlamaLogits } from '../../test/reference-forward.js';
import type { RawConfig } from '../config-fields.js';
import type { LlamaConfig } from '../llama/llama-config.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import { resolveQwen3Config } from './qwen3-config.js';
import { Qwen3ForCausalLM } from './qwen3-model.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** A tiny Qwen3: 4 query heads of 12 (≠ hidden 32 / 4), 2 key/value heads, untied head. */
const tiny: RawConfig = {
  model_type: 'qwen3',
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
};

const prompt = [3, 17, 42, 8, 8, 29, 1, 33, 47, 12];

/** The reference spec of a resolved config; RoPE given by its inverse frequencies (default: theta 10000). */
function specOf(
  config: LlamaConfig,
  rotate = ropeRotation(defaultInverseFrequencies(10000, config.headDim)),
): ReferenceLlama {
  return {
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    intermediateSize: config.intermediateSize,
    layers: config.numHiddenLayers,
    heads: config.numAttentionHeads,
    kvHeads: config.numKeyValueHeads,
    headDim: config.headDim,
    eps: config.rmsNormEps,
    tied: config.tieWordEmbeddings,
    slidingWindows: [...config.slidingWindows],
    rotate,
  };
}

/** The model's logits `[seq, vocab]` for `tokens` at `positions` (default 0, 1, …). */
function logitsOf(model: Qwen3ForCausalLM, tokens: number[], positions?: number[]): number[][] {
  return tf.tidy(() => {
    const options = positions ? { positionIds: ids([positions]), maxPosition: Math.max(...positions) } : {};
    const logits = model.forward(ids([tokens]), options).logits;
    return (logits.arraySync() as number[][][])[0]!;
  });
}

/** Builds `config` with seeded weights; the caller disposes the model. */
function seeded(config: LlamaConfig, seed: number): { model: Qwen3ForCausalLM; checkpoint: Checkpoint } {
  const model = new Qwen3ForCausalLM(config);
  return { model, checkpoint: randomCheckpoint(model, seed) };
}

describe('Qwen3 configurations against a float64 reference', () => {
  it('per-head q/k norms before RoPE, explicit head_dim, grouped-query heads, untied head', async () => {
    await expectNoLeak(() => {
      const config = resolveQwen3Config(tiny);
      const { model, checkpoint } = seeded(config, 1);
      expect(checkpoint.get('model.layers.1.self_attn.q_norm.weight')).toHaveLength(12);
      expect(checkpoint.get('model.layers.1.self_attn.k_norm.weight')).toHaveLength(12);
      assertClose(
        logitsOf(model, prompt).flat(),
        referenceLlamaLogits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
      model.dispose();
    });
  });

  it('tied embeddings and attention_bias on q, k, v and o (the MLP never has biases)', async () => {
    await expectNoLeak(() => {
      const config = resolveQwen3Config({ ...tiny, tie_word_embeddings: true, attention_bias: true });
      const { model, checkpoint } = seeded(config, 2);
      const biases = model
        .namedParameters()
        .map(([name]) => name)
        .filter((name) => name.endsWith('.bias'));
      expect(biases.filter((name) => name.startsWith('model.layers.0.'))).toEqual([
        'model.layers.0.self_attn.q_proj.bias',
        'model.layers.0.self_attn.k_proj.bias',
        'model.layers.0.self_attn.v_proj.bias',
        'model.layers.0.self_attn.o_proj.bias',
      ]);
      assertClose(
        logitsOf(model, prompt).flat(),
        referenceLlamaLogits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
      model.dispose();
    });
  });

  it('sliding-window layers from max_window_layers on, whole and decoded step by step through the caches', async () => {
    await expectNoLeak(() => {
      const config = resolveQwen3Config({
        ...tiny,
        use_sliding_window: true,
        sliding_window: 3,
        max_window_layers: 1,
      });
      expect(config.slidingWindows).toEqual([null, 3]);
      const { model, checkpoint } = seeded(config, 3);
      const expected = referenceLlamaLogits(specOf(config), checkpoint, prompt);
      assertClose(logitsOf(model, prompt).flat(), expected.flat(), 1e-4, 'logits');
      const unwindowed = referenceLlamaLogits(
        { ...specOf(config), slidingWindows: [null, null] },
        checkpoint,
        prompt,
      );
      expect(Math.abs(unwindowed.at(-1)![0]! - expected.at(-1)![0]!)).toBeGreaterThan(1e-3); // the window matters

      for (const implementation of ['dynamic', 'static'] as const) {
        const cache = model.createCache(1, prompt.length, implementation);
        expect(cache.layer(1)).toBeInstanceOf(SlidingWindowLayerCache);
        expect(cache.layer(0)).not.toBeInstanceOf(SlidingWindowLayerCache);
        const prefix = ids([prompt.slice(0, 5)]);
        const first = model.forwardLogits({ inputIds: prefix, cache, logitsToKeep: 1 });
        assertClose(first, expected[4]!, 1e-4, `${implementation}: prefix last logits`);
        tf.dispose([prefix, first]);
        for (let position = 5; position < prompt.length; position++) {
          const next = ids([[prompt[position]!]]);
          const logits = model.forwardLogits({ inputIds: next, cache });
          assertClose(logits, expected[position]!, 1e-4, `${implementation}: step ${position}`);
          tf.dispose([next, logits]);
        }
        cache.dispose();
      }
      model.dispose();
    });
  });
});

describe('Qwen3 with yarn RoPE (the rope_scaling Qwen publishes for long contexts)', () => {
  // Qwen3-8B's numbers scaled down: rope_theta 1e6, factor 4 over a pretraining length of 256, and
  // max_position_embeddings 320 (Qwen3's 40960 against 32768: not factor × original).
  const yarnBase = { ...tiny, head_dim: 32, max_position_embeddings: 320 };
  const yarn = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 256 };
  const spellings: [string, RawConfig][] = [
    ['4.x rope_theta + rope_scaling', { ...yarnBase, rope_theta: 1e6, rope_scaling: yarn }],
    ['5 rope_parameters', { ...yarnBase, rope_parameters: { ...yarn, rope_theta: 1e6 } }],
  ];
  const positions = prompt.map((_, i) => 300 + i); // past the pretraining length

  /** HF 5's `_compute_yarn_parameters`, written out in float64: the explicit `factor` is used. */
  function yarnRotation(): (vector: number[], position: number) => number[] {
    const [dim, base, factor, original] = [32, 1e6, 4, 256];
    const correctionDim = (rotations: number) =>
      (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    const low = Math.max(Math.floor(correctionDim(32)), 0);
    const high = Math.min(Math.ceil(correctionDim(1)), dim - 1);
    expect([low, high]).toEqual([0, 5]); // a ramp over several frequencies, not a step
    const frequencies = defaultInverseFrequencies(base, dim).map((extrapolated, i) => {
      const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      const extrapolationWeight = 1 - ramp;
      return (extrapolated / factor) * (1 - extrapolationWeight) + extrapolated * extrapolationWeight;
    });
    return ropeRotation(frequencies, 0.1 * Math.log(factor) + 1);
  }

  it.each(spellings)('%s: frequencies and attention factor match the reference', async (_, raw) => {
    await expectNoLeak(() => {
      const config = resolveQwen3Config(raw);
      expect(config.rope).toMatchObject({ ropeType: 'yarn', factor: 4, originalMaxPositionEmbeddings: 256 });
      const { model, checkpoint } = seeded(config, 4);
      const logits = logitsOf(model, prompt, positions);
      const expected = referenceLlamaLogits(specOf(config, yarnRotation()), checkpoint, prompt, positions);
      assertClose(logits.flat(), expected.flat(), 1e-4, 'yarn logits');
      const unscaled = referenceLlamaLogits(
        specOf(config, ropeRotation(defaultInverseFrequencies(1e6, 32))),
        checkpoint,
        prompt,
        positions,
      );
      expect(
        Math.max(...unscaled.flat().map((value, i) => Math.abs(value - logits.flat()[i]!))),
      ).toBeGreaterThan(1e-2); // yarn changes the answer
      model.dispose();
    });
  });
});

describe('Qwen3 checkpoints stored in half precision', () => {
  const folder = DECODER_FIXTURES.qwen3;
  const config = resolveQwen3Config(readJson(`${folder}/config.json`));

  /** `value` rounded to nearest-even with `mantissaBits` bits after the point (subnormal below `minExponent`). */
  function roundTo(value: number, mantissaBits: number, minExponent: number): number {
    if (value === 0) return 0;
    let exponent = Math.floor(Math.log2(Math.abs(value)));
    if (2 ** exponent > Math.abs(value)) exponent -= 1;
    if (2 ** (exponent + 1) <= Math.abs(value)) exponent += 1;
    const unit = 2 ** (Math.max(exponent, minExponent) - mantissaBits);
    const scaled = value / unit; // exact: a power-of-two scaling
    const floor = Math.floor(scaled);
    const rest = scaled - floor;
    const rounded = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
    return rounded * unit;
  }
  const ROUNDING: Record<'F16' | 'BF16', (value: number) => number> = {
    F16: (value) => roundTo(value, 10, -14),
    BF16: (value) => roundTo(value, 7, -126),
  };

  /** The fixture's tensors converted to `dtype` (as a user's converted copy), and widened back in float64. */
  async function convertedCopies(dtype: 'F16' | 'BF16') {
    const source = await openSafetensors(folder);
    const half: Record<string, { dtype: SafetensorsDtype; shape: readonly number[]; data: number[] }> = {};
    const widened: typeof half = {};
    for (const name of source.names()) {
      const tensor = await source.read(name);
      const values = Array.from(await tensor.data(), ROUNDING[dtype]);
      tensor.dispose();
      half[name] = { dtype, shape: source.shape(name), data: values };
      widened[name] = { dtype: 'F32', shape: source.shape(name), data: values };
    }
    return {
      half: await openSafetensorsBytes(serializeSafetensors(half), `${dtype} copy`),
      float32: await openSafetensorsBytes(serializeSafetensors(widened), 'float32 of the same values'),
    };
  }

  it.each(['F16', 'BF16'] as const)(
    '%s: loads to exactly the float32 model of the same values',
    async (dtype) => {
      const { half, float32 } = await convertedCopies(dtype);
      expect(half.dtype('model.layers.0.self_attn.q_norm.weight')).toBe(dtype);
      await expectNoLeak(async () => {
        const expected = new Qwen3ForCausalLM(config);
        await loadLlamaWeights(expected, float32);
        const model = new Qwen3ForCausalLM(config);
        const report = await loadLlamaWeights(model, half);
        expect(report.missing).toEqual([]);
        expect(report.unexpected).toEqual([]);
        assertClose(logitsOf(model, prompt).flat(), logitsOf(expected, prompt).flat(), 0, `${dtype} logits`);
        expected.dispose();
        model.dispose();
      });
    },
  );
});
