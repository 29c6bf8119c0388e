import * as tf from '@tensorflow/tfjs-core';
import { type AttentionImplementation, RopeConfigError } from '@tsformer/attention';
import { openSafetensorsBytes, serializeSafetensors, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  type Checkpoint,
  defaultInverseFrequencies,
  randomCheckpoint,
  ropeRotation,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../test/decoder-fixtures.js';
import { type ReferenceLlama, referenceLlamaLogits } from '../../test/reference-forward.js';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { resolveMistralConfig } from '../mistral/mistral-config.js';
import { resolveQwen2Config } from '../qwen2/qwen2-config.js';
import type { RotaryAngles } from '../rotary-layer-stack.js';
import type { SelfAttention } from '../self-attention.js';
import { type LlamaConfig, resolveLlamaConfig } from './llama-config.js';
import {
  LlamaAttention,
  type LlamaAttentionScoring,
  LlamaDecoderLayer,
  LlamaForCausalLM,
  LlamaModel,
} from './llama-model.js';
import { loadLlamaWeights } from './llama-weights.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** A tiny Llama: 4 query heads of 12 (≠ hidden 32 / 4), 2 key/value heads, untied head. */
const tiny: RawConfig = {
  model_type: 'llama',
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  bos_token_id: 0,
  eos_token_id: 1,
};
const prompt = [3, 17, 42, 8, 8, 29, 1, 33, 47, 12];

/** The reference spec of a resolved config, RoPE given by its inverse frequencies. */
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

/** The model's logits `[seq, vocab]` for `tokens` (optionally at explicit positions). */
function logitsOf(model: LlamaForCausalLM, tokens: number[], positions?: number[]): number[][] {
  return tf.tidy(() => {
    const options = positions ? { positionIds: ids([positions]), maxPosition: Math.max(...positions) } : {};
    const logits = model.forward(ids([tokens]), options).logits;
    return (logits.arraySync() as number[][][])[0]!;
  });
}

/** Builds `config`, fills it with seeded weights, runs it on the prompt; disposes it. */
function run(config: LlamaConfig, seed = 1): { logits: number[][]; checkpoint: Checkpoint; names: string[] } {
  const model = new LlamaForCausalLM(config);
  const checkpoint = randomCheckpoint(model, seed);
  const logits = logitsOf(model, prompt);
  const names = model.namedParameters().map(([name]) => name);
  model.dispose();
  return { logits, checkpoint, names };
}

describe('Llama configurations against a float64 reference', () => {
  it('explicit head_dim ≠ hidden / heads, grouped-query heads, untied head', async () => {
    await expectNoLeak(() => {
      const config = resolveLlamaConfig(tiny);
      expect(config.headDim).toBe(12);
      const { logits, checkpoint } = run(config);
      assertClose(
        logits.flat(),
        referenceLlamaLogits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
    });
  });

  it('tied embeddings, attention and MLP biases, another activation', async () => {
    await expectNoLeak(() => {
      const config = resolveLlamaConfig({
        ...tiny,
        tie_word_embeddings: true,
        attention_bias: true,
        mlp_bias: true,
        hidden_act: 'gelu_pytorch_tanh',
      });
      const { logits, checkpoint, names } = run(config, 2);
      expect(names).toContain('model.layers.0.self_attn.o_proj.bias');
      expect(names).toContain('model.layers.1.mlp.down_proj.bias');
      const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      const expected = referenceLlamaLogits({ ...specOf(config), activation: gelu }, checkpoint, prompt);
      assertClose(logits.flat(), expected.flat(), 1e-4, 'logits');
    });
  });

  it('a Llama-like family changes the attention scale and soft-caps the scores through the hooks', async () => {
    const scoring = { scale: 0.3, softcap: 1.5 };
    /** Llama whose attention scores with `scoring`, built the way a Llama-like family is (Gemma 2). */
    class ScoredLayer extends LlamaDecoderLayer {
      protected override createAttention(
        config: LlamaConfig,
        layerIndex: number,
        attention: AttentionImplementation,
      ): SelfAttention<RotaryAngles> {
        return new LlamaAttention(config, layerIndex, attention, scoring satisfies LlamaAttentionScoring);
      }
    }
    class ScoredModel extends LlamaModel {
      protected override createLayer(
        config: LlamaConfig,
        layerIndex: number,
        attention: AttentionImplementation,
      ) {
        return new ScoredLayer(config, layerIndex, attention);
      }
    }
    class ScoredForCausalLM extends LlamaForCausalLM {
      protected override createModel(config: LlamaConfig, attention: AttentionImplementation): LlamaModel {
        return new ScoredModel(config, attention);
      }
    }
    await expectNoLeak(() => {
      const config = resolveLlamaConfig(tiny);
      const model = new ScoredForCausalLM(config);
      expect(model.model.layers.items.map(({ selfAttention }) => selfAttention.softcap)).toEqual([1.5, 1.5]);
      const checkpoint = randomCheckpoint(model, 10);
      const logits = logitsOf(model, prompt);
      model.dispose();
      const expected = referenceLlamaLogits({ ...specOf(config), ...scoring }, checkpoint, prompt);
      assertClose(logits.flat(), expected.flat(), 1e-4, 'logits');
      const unscored = referenceLlamaLogits(specOf(config), checkpoint, prompt);
      expect(Math.abs(unscored[4]![0]! - logits[4]![0]!)).toBeGreaterThan(1e-3); // the scoring matters
    });
  });

  it('counts a tied head once', () => {
    const untied = new LlamaForCausalLM(resolveLlamaConfig(tiny)).numParameters();
    const tied = new LlamaForCausalLM(
      resolveLlamaConfig({ ...tiny, tie_word_embeddings: true }),
    ).numParameters();
    expect(untied - tied).toBe(50 * 32);
  });

  it('qwen2: biases on q/k/v only, and sliding-window upper layers', async () => {
    await expectNoLeak(() => {
      const config = resolveQwen2Config({
        ...tiny,
        model_type: 'qwen2',
        use_sliding_window: true,
        sliding_window: 3,
        max_window_layers: 1,
      });
      expect(config.slidingWindows).toEqual([null, 3]);
      const { logits, checkpoint, names } = run(config, 3);
      expect(
        names.filter((name) => name.startsWith('model.layers.0.self_attn') && name.endsWith('bias')),
      ).toEqual([
        'model.layers.0.self_attn.q_proj.bias',
        'model.layers.0.self_attn.k_proj.bias',
        'model.layers.0.self_attn.v_proj.bias',
      ]);
      assertClose(
        logits.flat(),
        referenceLlamaLogits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
    });
  });

  it('mistral: a sliding window shorter than the prompt', async () => {
    await expectNoLeak(() => {
      const config = resolveMistralConfig({ ...tiny, model_type: 'mistral', sliding_window: 4 });
      expect(config.slidingWindows).toEqual([4, 4]);
      const { logits, checkpoint } = run(config, 4);
      assertClose(
        logits.flat(),
        referenceLlamaLogits(specOf(config), checkpoint, prompt).flat(),
        1e-4,
        'logits',
      );
      const full = referenceLlamaLogits(
        { ...specOf(config), slidingWindows: [null, null] },
        checkpoint,
        prompt,
      );
      expect(Math.abs(full.at(-1)![0]! - logits.at(-1)![0]!)).toBeGreaterThan(1e-3); // the window matters
    });
  });

  it('loads float16 weights exactly (values representable in float16)', async () => {
    await expectNoLeak(async () => {
      const config = resolveLlamaConfig(tiny);
      const source = new LlamaForCausalLM(config);
      const checkpoint = randomCheckpoint(source, 5);
      const expected = logitsOf(source, prompt);
      const shapes = new Map(source.namedParameters().map(([name, parameter]) => [name, parameter.shape]));
      source.dispose();
      const halves = Object.fromEntries(
        [...checkpoint].map(([name, data]) => [
          name,
          { dtype: 'F16' as const, shape: shapes.get(name)!, data },
        ]),
      );
      const file = await openSafetensorsBytes(serializeSafetensors(halves), 'f16 checkpoint');
      expect(file.dtype('lm_head.weight')).toBe('F16');
      const model = new LlamaForCausalLM(config);
      await loadLlamaWeights(model, file);
      assertClose(logitsOf(model, prompt).flat(), expected.flat(), 0, 'float16-loaded logits');
      model.dispose();
    });
  });
});

describe('RoPE scalings in the model', () => {
  it('linear factor f at positions f·p equals default RoPE at positions p (4.x rope_scaling and 5 rope_parameters)', async () => {
    await expectNoLeak(() => {
      const positions = prompt.map((_, i) => i);
      const base = new LlamaForCausalLM(resolveLlamaConfig(tiny));
      const checkpoint = randomCheckpoint(base, 6);
      const expected = logitsOf(base, prompt, positions);
      base.dispose();
      for (const spelling of [
        { rope_theta: 10000, rope_scaling: { type: 'linear', factor: 2 } },
        { rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 10000 } },
      ]) {
        const model = new LlamaForCausalLM(resolveLlamaConfig({ ...tiny, ...spelling }));
        for (const [name, parameter] of model.namedParameters()) {
          parameter.assign(tf.tensor(checkpoint.get(name)!, [...parameter.shape]));
        }
        const scaled = logitsOf(
          model,
          prompt,
          positions.map((p) => 2 * p),
        );
        assertClose(scaled.flat(), expected.flat(), 1e-4, 'linear-scaled logits');
        model.dispose();
      }
    });
  });

  it('dynamic NTK equals default RoPE within max_position_embeddings', async () => {
    await expectNoLeak(() => {
      const { logits, checkpoint } = run(resolveLlamaConfig(tiny), 7);
      const config = resolveLlamaConfig({ ...tiny, rope_scaling: { rope_type: 'dynamic', factor: 4 } });
      const model = new LlamaForCausalLM(config);
      for (const [name, parameter] of model.namedParameters()) {
        parameter.assign(tf.tensor(checkpoint.get(name)!, [...parameter.shape]));
      }
      assertClose(logitsOf(model, prompt).flat(), logits.flat(), 1e-5, 'dynamic logits');
      model.dispose();
    });
  });

  it('llama3 frequencies (written out from HF) match the reference', async () => {
    await expectNoLeak(() => {
      const rope = {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 16,
      };
      const config = resolveLlamaConfig({
        ...tiny,
        head_dim: 16,
        rope_parameters: { ...rope, rope_theta: 10000 },
      });
      const { logits, checkpoint } = run(config, 8);
      const frequencies = defaultInverseFrequencies(10000, 16).map((frequency) => {
        const wavelength = (2 * Math.PI) / frequency;
        const [lowWavelength, highWavelength] = [16 / 1, 16 / 4];
        if (wavelength < highWavelength) return frequency;
        if (wavelength > lowWavelength) return frequency / 8;
        const smooth = (16 / wavelength - 1) / (4 - 1);
        return (1 - smooth) * (frequency / 8) + smooth * frequency;
      });
      const expected = referenceLlamaLogits(specOf(config, ropeRotation(frequencies)), checkpoint, prompt);
      assertClose(logits.flat(), expected.flat(), 1e-4, 'llama3 logits');
    });
  });

  it('yarn frequencies and attention factor (written out from HF) match the reference', async () => {
    await expectNoLeak(() => {
      const config = resolveLlamaConfig({
        ...tiny,
        head_dim: 16,
        rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 16 },
      });
      const { logits, checkpoint } = run(config, 9);
      const dim = 16;
      const base = 10000;
      const correctionDim = (rotations: number) =>
        (dim * Math.log(16 / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      const low = Math.max(Math.floor(correctionDim(32)), 0);
      const high = Math.min(Math.ceil(correctionDim(1)), dim - 1);
      const frequencies = defaultInverseFrequencies(base, dim).map((extrapolated, i) => {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high === low ? 0.001 : high - low)));
        const extrapolationWeight = 1 - ramp;
        return (extrapolated / 4) * (1 - extrapolationWeight) + extrapolated * extrapolationWeight;
      });
      const attentionFactor = 0.1 * Math.log(4) + 1;
      const expected = referenceLlamaLogits(
        specOf(config, ropeRotation(frequencies, attentionFactor)),
        checkpoint,
        prompt,
      );
      assertClose(logits.flat(), expected.flat(), 1e-4, 'yarn logits');
    });
  });
});

describe('Llama-family config validation names the field', () => {
  it.each([
    [
      { num_key_value_heads: 3 },
      /llama config: num_key_value_heads \(3\) must divide num_attention_heads \(4\)/,
    ],
    [{ head_dim: null, hidden_size: 30 }, /num_attention_heads \(4\) must divide hidden_size \(30\)/],
    [{ hidden_act: 'swiglu' }, /hidden_act "swiglu" is not a supported activation; supported: gelu/],
    [{ rms_norm_eps: -1 }, /rms_norm_eps must be a positive number, got -1/],
    [{ vocab_size: 0 }, /vocab_size must be a positive integer up to 4194304, got 0/],
    [{ eos_token_id: 50 }, /eos_token_id must be a token id in \[0, 50\), got 50/],
  ])('%j', (change, message) => {
    expect(() => resolveLlamaConfig({ ...tiny, ...change })).toThrow(ConfigFieldError);
    expect(() => resolveLlamaConfig({ ...tiny, ...change })).toThrow(message);
  });

  it('RoPE settings through the attention package’s resolver', () => {
    expect(() => resolveLlamaConfig({ ...tiny, rope_scaling: { type: 'ntk', factor: 2 } })).toThrow(
      RopeConfigError,
    );
    expect(() => resolveLlamaConfig({ ...tiny, rope_scaling: { type: 'linear' } })).toThrow(
      /rope_scaling.factor/,
    );
  });

  it('qwen2 layer_types and mistral sliding_window', () => {
    expect(() => resolveQwen2Config({ ...tiny, layer_types: ['full_attention'] })).toThrow(
      /qwen2 config: layer_types must be a list of "full_attention" or "sliding_attention", one for each of the 2 layers/,
    );
    expect(
      resolveQwen2Config({
        ...tiny,
        layer_types: ['full_attention', 'sliding_attention'],
        use_sliding_window: true,
        sliding_window: 8,
      }).slidingWindows,
    ).toEqual([null, 8]);
    expect(resolveMistralConfig({ ...tiny, sliding_window: null }).slidingWindows).toEqual([null, null]);
    expect(resolveMistralConfig({ ...tiny }).slidingWindows).toEqual([4096, 4096]);
    expect(() => resolveMistralConfig({ ...tiny, sliding_window: 0 })).toThrow(
      /mistral config: sliding_window must be a positive integer/,
    );
  });
});
