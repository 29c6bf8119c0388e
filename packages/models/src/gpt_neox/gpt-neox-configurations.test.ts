// GPT-NeoX configurations the fixture does not cover, each against an independent float64 forward:
// the sequential residual, 4.x RoPE names (rotary_emb_base, rotary_pct), no attention biases, a tied
// head; incremental decoding; float16/bfloat16 checkpoints carrying old checkpoints' buffers.
import * as tf from '@tensorflow/tfjs-core';
import { RopeConfigError } from '@tsformer/attention';
import {
  openSafetensorsBytes,
  type SafetensorsInput,
  serializeSafetensors,
  useBackend,
  WeightLoadingError,
} from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  ACTIVATIONS,
  add,
  attend,
  type Checkpoint,
  defaultInverseFrequencies,
  layerNorm,
  linear,
  type Matrix,
  randomCheckpoint,
  ropeRotation,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../test/decoder-fixtures.js';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { type GPTNeoXConfig, resolveGPTNeoXConfig } from './gpt-neox-config.js';
import { GPTNeoXForCausalLM } from './gpt-neox-model.js';
import { loadGPTNeoXWeights } from './gpt-neox-weights.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** A tiny GPT-NeoX as transformers 4.x wrote its config: 4 heads of 12, RoPE on half of each head, base 500. */
const tiny: RawConfig = {
  model_type: 'gpt_neox',
  vocab_size: 50,
  hidden_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 40,
  max_position_embeddings: 64,
  rotary_pct: 0.5,
  rotary_emb_base: 500,
  bos_token_id: 0,
  eos_token_id: 1,
};
const prompt = [3, 17, 42, 8, 8, 29, 1, 33, 47, 12];

/** What the float64 forward is told, written out from the raw numbers rather than the resolved config. */
interface ReferenceNeoX {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  parallelResidual: boolean;
  activation: (x: number) => number;
  /** RoPE base and rotated channels per head. */
  theta: number;
  rotaryDim: number;
}

const TINY_SPEC: ReferenceNeoX = {
  vocabSize: 50,
  hiddenSize: 48,
  intermediateSize: 40,
  layers: 2,
  heads: 4,
  parallelResidual: true,
  activation: ACTIVATIONS.gelu!,
  theta: 500,
  rotaryDim: 6,
};

/** HF's GPTNeoXForCausalLM in float64: logits `[seq, vocab]` (biases wherever the checkpoint has them). */
function referenceLogits(spec: ReferenceNeoX, weights: Checkpoint, inputIds: number[]): Matrix {
  const w = (name: string) => weights.get(name)!;
  const { hiddenSize, heads } = spec;
  const headDim = hiddenSize / heads;
  const norm = (x: Matrix, name: string) => layerNorm(x, w(`${name}.weight`), w(`${name}.bias`), 1e-5);
  const dense = (x: Matrix, name: string, out: number) =>
    linear(x, w(`${name}.weight`), out, weights.get(`${name}.bias`));
  const embed = w('gpt_neox.embed_in.weight');
  let hidden: Matrix = inputIds.map((id) => embed.slice(id * hiddenSize, (id + 1) * hiddenSize));
  const rotate = ropeRotation(defaultInverseFrequencies(spec.theta, spec.rotaryDim));
  for (let layer = 0; layer < spec.layers; layer++) {
    const p = `gpt_neox.layers.${layer}.`;
    const fused = dense(norm(hidden, `${p}input_layernorm`), `${p}attention.query_key_value`, 3 * hiddenSize);
    // per head h, features [h·3·headDim, (h·3 + 1)·headDim) are its query, then its key, then its value
    const part = (index: number): Matrix =>
      fused.map((row) =>
        Array.from({ length: heads }, (_, h) =>
          row.slice((3 * h + index) * headDim, (3 * h + index + 1) * headDim),
        ).flat(),
      );
    const context = attend(part(0), part(1), part(2), {
      positions: inputIds.map((_, i) => i),
      heads,
      kvHeads: heads,
      headDim,
      scale: headDim ** -0.5,
      rotate,
    });
    const attention = dense(context, `${p}attention.dense`, hiddenSize);
    const mlp = (x: Matrix) => {
      const inner = dense(
        norm(x, `${p}post_attention_layernorm`),
        `${p}mlp.dense_h_to_4h`,
        spec.intermediateSize,
      );
      return dense(
        inner.map((row) => row.map(spec.activation)),
        `${p}mlp.dense_4h_to_h`,
        hiddenSize,
      );
    };
    if (spec.parallelResidual) {
      hidden = add(add(mlp(hidden), attention), hidden);
    } else {
      const afterAttention = add(attention, hidden);
      hidden = add(mlp(afterAttention), afterAttention);
    }
  }
  return linear(norm(hidden, 'gpt_neox.final_layer_norm'), w('embed_out.weight'), spec.vocabSize);
}

/** The model's logits `[seq, vocab]` for `tokens`. */
function logitsOf(model: GPTNeoXForCausalLM, tokens: number[]): number[][] {
  return tf.tidy(() => (model.forward(ids([tokens])).logits.arraySync() as number[][][])[0]!);
}

/** Builds `config`, fills it with seeded weights, runs it on the prompt; disposes it. */
function run(config: GPTNeoXConfig, seed: number) {
  const model = new GPTNeoXForCausalLM(config);
  const checkpoint = randomCheckpoint(model, seed);
  const logits = logitsOf(model, prompt);
  const names = model.namedParameters().map(([name]) => name);
  model.dispose();
  return { logits, checkpoint, names };
}

describe('GPT-NeoX configurations against a float64 reference', () => {
  it('sequential residual with 4.x rotary_emb_base and rotary_pct', async () => {
    await expectNoLeak(() => {
      const config = resolveGPTNeoXConfig({ ...tiny, use_parallel_residual: false });
      expect(config.rope).toMatchObject({ ropeTheta: 500, partialRotaryFactor: 0.5, rotaryDim: 6 });
      const { logits, checkpoint } = run(config, 1);
      const spec = { ...TINY_SPEC, parallelResidual: false };
      assertClose(logits.flat(), referenceLogits(spec, checkpoint, prompt).flat(), 1e-4, 'logits');
      // the residual form and the base both matter on these weights
      const parallel = referenceLogits(TINY_SPEC, checkpoint, prompt);
      const otherBase = referenceLogits({ ...spec, theta: 10000 }, checkpoint, prompt);
      expect(Math.abs(parallel.at(-1)![0]! - logits.at(-1)![0]!)).toBeGreaterThan(1e-3);
      expect(Math.abs(otherBase.at(-1)![0]! - logits.at(-1)![0]!)).toBeGreaterThan(1e-3);
    });
  });

  it('parallel residual without attention biases, a tied head, gelu_new, RoPE from rope_parameters', async () => {
    await expectNoLeak(() => {
      const config = resolveGPTNeoXConfig({
        ...tiny,
        rotary_pct: undefined,
        rotary_emb_base: undefined,
        rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 1 },
        attention_bias: false,
        tie_word_embeddings: true,
        hidden_act: 'gelu_new',
      });
      const { logits, checkpoint, names } = run(config, 2);
      expect(names.filter((name) => name.startsWith('gpt_neox.layers.0.attention.'))).toEqual([
        'gpt_neox.layers.0.attention.query_key_value.weight',
        'gpt_neox.layers.0.attention.dense.weight',
      ]);
      expect(checkpoint.get('embed_out.weight')).toBe(checkpoint.get('gpt_neox.embed_in.weight'));
      const spec = { ...TINY_SPEC, activation: ACTIVATIONS.gelu_new!, theta: 10000, rotaryDim: 12 };
      assertClose(logits.flat(), referenceLogits(spec, checkpoint, prompt).flat(), 1e-4, 'logits');
    });
  });

  it('counts a tied head once', () => {
    const untied = new GPTNeoXForCausalLM(resolveGPTNeoXConfig(tiny));
    const tied = new GPTNeoXForCausalLM(resolveGPTNeoXConfig({ ...tiny, tie_word_embeddings: true }));
    expect(untied.numParameters() - tied.numParameters()).toBe(50 * 48);
    untied.dispose();
    tied.dispose();
  });
});

describe('GPT-NeoX decoding step by step', () => {
  it.each(['dynamic', 'static'] as const)(
    'sequential residual: the %s cache gives the logits of the full forward',
    async (implementation) => {
      const model = new GPTNeoXForCausalLM(resolveGPTNeoXConfig({ ...tiny, use_parallel_residual: false }));
      randomCheckpoint(model, 3);
      const expected = logitsOf(model, prompt);
      await expectNoLeak(() => {
        const cache = model.createCache(1, prompt.length, implementation);
        const prefix = ids([prompt.slice(0, 4)]);
        const first = model.forwardLogits({ inputIds: prefix, cache, logitsToKeep: 1 });
        assertClose(first, expected[3]!, 1e-4, 'prefix last logits');
        tf.dispose([prefix, first]);
        for (let position = 4; position < prompt.length; position++) {
          const next = ids([[prompt[position]!]]);
          const logits = model.forwardLogits({ inputIds: next, cache });
          assertClose(logits, expected[position]!, 1e-4, `step ${position}`);
          tf.dispose([next, logits]);
        }
        cache.dispose();
      });
      model.dispose();
    },
  );
});

describe('GPT-NeoX checkpoints', () => {
  /** The weights of a seeded model in `dtype`, plus what old checkpoints saved beside them. */
  function oldCheckpoint(dtype: 'F16' | 'BF16'): {
    bytes: Uint8Array;
    expected: number[][];
    buffers: string[];
  } {
    const config = resolveGPTNeoXConfig(tiny);
    const source = new GPTNeoXForCausalLM(config);
    const checkpoint = randomCheckpoint(source, 4);
    // multiples of 2^-7 below 2 in magnitude: 8 significant bits, exact in float16 and bfloat16
    const tensors: Record<string, SafetensorsInput> = {};
    for (const [name, parameter] of source.namedParameters()) {
      const data = checkpoint.get(name)!.map((value) => Math.round(value * 128) / 128);
      parameter.assign(tf.tensor(data, [...parameter.shape]));
      tensors[name] = { dtype, shape: [...parameter.shape], data };
    }
    const expected = logitsOf(source, prompt);
    source.dispose();
    const positions = config.maxPositionEmbeddings;
    const buffers: string[] = [];
    for (let layer = 0; layer < config.numHiddenLayers; layer++) {
      const p = `gpt_neox.layers.${layer}.attention.`;
      const mask = Array.from({ length: positions * positions }, (_, i) =>
        i % positions <= Math.floor(i / positions) ? 1 : 0,
      );
      tensors[`${p}bias`] = { dtype: 'BOOL', shape: [1, 1, positions, positions], data: mask };
      tensors[`${p}masked_bias`] = { dtype: 'F32', shape: [], data: [-1e9] };
      tensors[`${p}rotary_emb.inv_freq`] = { dtype: 'F32', shape: [3], data: [1, 0.5, 0.25] };
      buffers.push(`${p}bias`, `${p}masked_bias`, `${p}rotary_emb.inv_freq`);
    }
    return { bytes: serializeSafetensors(tensors), expected, buffers };
  }

  it.each(['F16', 'BF16'] as const)(
    'loads a %s checkpoint carrying attention.bias, masked_bias and rotary_emb.inv_freq buffers, ignoring them as HF does',
    async (dtype) => {
      const { bytes, expected, buffers } = oldCheckpoint(dtype);
      await expectNoLeak(async () => {
        const file = await openSafetensorsBytes(bytes, `${dtype} checkpoint`);
        expect(file.dtype('embed_out.weight')).toBe(dtype);
        const model = new GPTNeoXForCausalLM(resolveGPTNeoXConfig(tiny));
        const report = await loadGPTNeoXWeights(model, file);
        expect(report.ignored.sort()).toEqual([...buffers].sort());
        expect(report.unexpected).toEqual([]);
        assertClose(logitsOf(model, prompt).flat(), expected.flat(), 0, `${dtype}-loaded logits`);
        model.dispose();
      });
    },
  );

  it('still refuses a tensor it does not know, next to the ignored buffers', async () => {
    const { bytes } = oldCheckpoint('F16');
    const file = await openSafetensorsBytes(bytes, 'f16 checkpoint');
    const renamed = {
      location: file.location,
      names: () =>
        file.names().map((name) => name.replace('layers.1.attention.bias', 'layers.1.attention.bogus')),
      shape: (name: string) => file.shape(name.replace('bogus', 'bias')),
      read: (name: string) => file.read(name.replace('bogus', 'bias')),
    };
    const model = new GPTNeoXForCausalLM(resolveGPTNeoXConfig(tiny));
    const error = await loadGPTNeoXWeights(model, renamed, { dryRun: true }).catch((e) => e);
    expect(error).toBeInstanceOf(WeightLoadingError);
    expect(error.message).toMatch(/unexpected 1: gpt_neox\.layers\.1\.attention\.bogus/);
    model.dispose();
  });
});

describe('GPT-NeoX config resolution', () => {
  it('has GPTNeoXConfig()’s defaults (the GPT-NeoX-20B shape)', () => {
    const config = resolveGPTNeoXConfig({ model_type: 'gpt_neox' });
    expect(config).toMatchObject({
      vocabSize: 50432,
      hiddenSize: 6144,
      numHiddenLayers: 44,
      numAttentionHeads: 64,
      headDim: 96,
      intermediateSize: 24576,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: 2048,
      layerNormEps: 1e-5,
      useParallelResidual: true,
      attentionBias: true,
      tieWordEmbeddings: false,
      bosTokenId: 0,
      eosTokenId: 2,
      padTokenId: null,
    });
    expect(config.rope).toMatchObject({ ropeType: 'default', ropeTheta: 10000, rotaryDim: 24 });
  });

  it('reads RoPE as transformers 5.17 does: the dict first, then rotary_emb_base / rotary_pct, then 10000 / 0.25', () => {
    const rope = (raw: RawConfig) => resolveGPTNeoXConfig({ ...tiny, ...raw }).rope;
    expect(
      rope({ rope_parameters: { rope_type: 'default', rope_theta: 20, partial_rotary_factor: 1 } }),
    ).toMatchObject({ ropeTheta: 20, partialRotaryFactor: 1, rotaryDim: 12 });
    expect(rope({ rope_parameters: { rope_type: 'default' } })).toMatchObject({
      ropeTheta: 500,
      partialRotaryFactor: 0.5,
    });
    expect(rope({ rope_scaling: { type: 'linear', factor: 2 } })).toMatchObject({
      ropeType: 'linear',
      factor: 2,
      ropeTheta: 500,
      rotaryDim: 6,
    });
    // rope_theta and partial_rotary_factor beside the dict are not GPT-NeoX fields: HF ignores them
    expect(
      rope({ rotary_pct: undefined, rotary_emb_base: undefined, rope_theta: 77, partial_rotary_factor: 1 }),
    ).toMatchObject({ ropeTheta: 10000, partialRotaryFactor: 0.25, rotaryDim: 3 });
  });

  it('leaves the raw config as it was', () => {
    const raw = structuredClone({ ...tiny, rope_scaling: { type: 'linear', factor: 2 } });
    const before = JSON.stringify(raw);
    resolveGPTNeoXConfig(raw);
    expect(JSON.stringify(raw)).toBe(before);
  });

  it.each([
    [{ hidden_size: 30 }, /gpt_neox config: num_attention_heads \(4\) must divide hidden_size \(30\)/],
    [{ rotary_pct: 0 }, /gpt_neox config: rotary_pct must be a number in \(0, 1\], got 0/],
    [{ rotary_emb_base: '10000' }, /gpt_neox config: rotary_emb_base must be a positive number, got "10000"/],
    [{ layer_norm_eps: -1 }, /gpt_neox config: layer_norm_eps must be a positive number, got -1/],
    [{ use_parallel_residual: 'yes' }, /gpt_neox config: use_parallel_residual must be true or false/],
    [{ hidden_act: 'swiglu' }, /gpt_neox config: hidden_act "swiglu" is not a supported activation/],
    [{ eos_token_id: 50 }, /gpt_neox config: eos_token_id must be a token id in \[0, 50\), got 50/],
  ])('%j is a ConfigFieldError naming the field', (change, message) => {
    expect(() => resolveGPTNeoXConfig({ ...tiny, ...change })).toThrow(ConfigFieldError);
    expect(() => resolveGPTNeoXConfig({ ...tiny, ...change })).toThrow(message);
  });

  it('RoPE dict problems through the attention package’s resolver', () => {
    expect(() => resolveGPTNeoXConfig({ ...tiny, rope_scaling: { type: 'linear' } })).toThrow(
      RopeConfigError,
    );
    expect(() => resolveGPTNeoXConfig({ ...tiny, rope_scaling: { type: 'linear' } })).toThrow(
      /rope_scaling\.factor/,
    );
  });
});
