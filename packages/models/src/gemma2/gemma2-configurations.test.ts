// Gemma 2 beyond its fixture: random small configs against a float64 forward written from HF's
// modeling_gemma2.py (four (1 + w) norms per layer, query_pre_attn_scalar, attention and final logit
// soft caps, sliding windows on the layers HF picks), whole and step by step through dynamic and static
// caches past the window; soft caps switched off by null; float16 checkpoints; a folder written as the
// Gemma 2 checkpoints on the Hub are (transformers 4.42's config, cache_implementation "hybrid"); bad
// fields named.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { SlidingWindowLayerCache } from '@tsformer/cache';
import { openSafetensorsBytes, serializeSafetensors, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  ACTIVATIONS,
  add,
  attend,
  type Checkpoint,
  defaultInverseFrequencies,
  linear,
  type Matrix,
  randomCheckpoint,
  rmsNorm,
  ropeRotation,
  softcap,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, readDecoderReference } from '../../test/decoder-fixtures.js';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { fromPretrained } from '../from-pretrained.js';
import { filesInMemory } from '../model-files.js';
import { type Gemma2Config, resolveGemma2Config } from './gemma2-config.js';
import { Gemma2ForCausalLM } from './gemma2-model.js';
import { gemma2 } from './index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/**
 * A tiny Gemma 2 written as transformers 4.4x wrote it (no `layer_types`: layers 0 and 2 slide), with a
 * window of 3 shorter than the prompt, one key/value head, head_dim ≠ hidden / heads, and soft caps small
 * enough to bite.
 */
const tiny: RawConfig = {
  model_type: 'gemma2',
  vocab_size: 40,
  hidden_size: 24,
  intermediate_size: 36,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 12,
  max_position_embeddings: 64,
  hidden_act: 'gelu_pytorch_tanh',
  hidden_activation: 'gelu',
  query_pre_attn_scalar: 20,
  sliding_window: 3,
  attn_logit_softcapping: 0.5,
  final_logit_softcapping: 2,
  bos_token_id: 2,
  eos_token_id: 1,
};
const prompt = [2, 17, 31, 8, 8, 29, 1, 33, 5, 12, 39];

/** Gemma 2's logits `[seq, vocab]` in float64, from HF's `Gemma2ForCausalLM.forward`. */
function referenceGemma2Logits(config: Gemma2Config, weights: Checkpoint, inputIds: number[]): Matrix {
  const w = (name: string) => weights.get(name)!;
  const {
    hiddenSize,
    headDim,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    rmsNormEps: eps,
  } = config;
  const norm = (x: Matrix, name: string) => rmsNorm(x, w(`${name}.weight`), eps, 1);
  const activation = ACTIVATIONS[config.hiddenAct]!;
  const embed = w('model.embed_tokens.weight');
  const normalizer = Math.fround(Math.sqrt(hiddenSize));
  let hidden: Matrix = inputIds.map((id) =>
    embed.slice(id * hiddenSize, (id + 1) * hiddenSize).map((value) => value * normalizer),
  );
  const rotate = ropeRotation(defaultInverseFrequencies(10000, headDim));
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    const p = `model.layers.${layer}.`;
    const x = norm(hidden, `${p}input_layernorm`);
    const project = (name: string, width: number) => linear(x, w(`${p}self_attn.${name}.weight`), width);
    const context = attend(
      project('q_proj', heads * headDim),
      project('k_proj', kvHeads * headDim),
      project('v_proj', kvHeads * headDim),
      {
        positions: inputIds.map((_, i) => i),
        heads,
        kvHeads,
        headDim,
        scale: config.queryPreAttnScalar ** -0.5,
        softcap: config.attnLogitSoftcapping ?? undefined,
        slidingWindow: config.slidingWindows[layer],
        rotate,
      },
    );
    const attention = linear(context, w(`${p}self_attn.o_proj.weight`), hiddenSize);
    hidden = add(hidden, norm(attention, `${p}post_attention_layernorm`));
    const y = norm(hidden, `${p}pre_feedforward_layernorm`);
    const gate = linear(y, w(`${p}mlp.gate_proj.weight`), config.intermediateSize);
    const up = linear(y, w(`${p}mlp.up_proj.weight`), config.intermediateSize);
    const product = gate.map((row, r) => row.map((g, c) => activation(g) * up[r]![c]!));
    const mlp = linear(product, w(`${p}mlp.down_proj.weight`), hiddenSize);
    hidden = add(hidden, norm(mlp, `${p}post_feedforward_layernorm`));
  }
  hidden = norm(hidden, 'model.norm');
  const logits = linear(hidden, embed, config.vocabSize);
  const cap = config.finalLogitSoftcapping;
  return cap === null ? logits : logits.map((row) => row.map((value) => softcap(value, cap)));
}

/** A `[1, seq]` int32 tensor of token ids. */
const idsOf = (tokens: number[]) => tf.tensor2d([tokens], [1, tokens.length], 'int32');

/** The model's logits `[seq, vocab]` for `tokens`. */
async function logitsOf(model: Gemma2ForCausalLM, tokens: number[]): Promise<number[][]> {
  const inputIds = idsOf(tokens);
  const { logits } = model.forward(inputIds);
  const values = (await logits.array())[0]!;
  tf.dispose([inputIds, logits]);
  return values;
}

/** Builds `config` with seeded weights: the model (tables kept) and its checkpoint. */
function build(config: Gemma2Config, seed: number): { model: Gemma2ForCausalLM; checkpoint: Checkpoint } {
  const model = new Gemma2ForCausalLM(config);
  const checkpoint = randomCheckpoint(model, seed);
  model.trunk.prepareKeptTensors();
  return { model, checkpoint };
}

/** The largest |a − b| over two matrices. */
const largestGap = (a: Matrix, b: Matrix) =>
  Math.max(...a.flat().map((value, i) => Math.abs(value - b.flat()[i]!)));

describe('Gemma 2 against a float64 forward', () => {
  it('reads an older config: even layers slide, hidden_activation (not hidden_act) runs the MLP', () => {
    const config = resolveGemma2Config(tiny);
    expect(config.slidingWindows).toEqual([3, null, 3]);
    expect(config.hiddenAct).toBe('gelu');
    expect(config).toMatchObject({
      queryPreAttnScalar: 20,
      attnLogitSoftcapping: 0.5,
      finalLogitSoftcapping: 2,
    });
  });

  it('matches the whole forward, and decodes past the window step by step (dynamic and static caches)', async () => {
    const config = resolveGemma2Config(tiny);
    const { model, checkpoint } = build(config, 1);
    const expected = referenceGemma2Logits(config, checkpoint, prompt);
    await expectNoLeak(async () => {
      assertClose((await logitsOf(model, prompt)).flat(), expected.flat(), 1e-4, 'logits');
      for (const implementation of ['dynamic', 'static'] as const) {
        const cache = model.createCache(1, prompt.length, implementation);
        expect([0, 1, 2].map((layer) => cache.layer(layer) instanceof SlidingWindowLayerCache)).toEqual([
          true,
          false,
          true,
        ]);
        const prefix = idsOf(prompt.slice(0, 5)); // longer than the window
        const first = model.forwardLogits({ inputIds: prefix, cache, logitsToKeep: 1 });
        assertClose(await first.data(), expected[4]!, 1e-4, `${implementation} prefix`);
        tf.dispose([prefix, first]);
        for (let position = 5; position < prompt.length; position++) {
          const next = idsOf([prompt[position]!]);
          const logits = model.forwardLogits({ inputIds: next, cache });
          assertClose(await logits.data(), expected[position]!, 1e-4, `${implementation} step ${position}`);
          tf.dispose([next, logits]);
        }
        cache.dispose();
      }
      // Each setting changes the result: the window, the scalar and both caps are really applied.
      for (const [name, change] of [
        ['sliding_window', { slidingWindows: [null, null, null] }],
        ['query_pre_attn_scalar', { queryPreAttnScalar: config.headDim }],
        ['attn_logit_softcapping', { attnLogitSoftcapping: null }],
        ['final_logit_softcapping', { finalLogitSoftcapping: null }],
      ] as const) {
        const other = referenceGemma2Logits({ ...config, ...change }, checkpoint, prompt);
        expect(largestGap(other, expected), name).toBeGreaterThan(1e-3);
      }
    });
    model.dispose();
  });

  it('turns a soft cap off with null, reads layer_types, and loads a float16 checkpoint exactly', async () => {
    const config = resolveGemma2Config({
      ...tiny,
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      layer_types: ['full_attention', 'sliding_attention', 'sliding_attention'],
    });
    expect(config).toMatchObject({ attnLogitSoftcapping: null, finalLogitSoftcapping: null });
    expect(config.slidingWindows).toEqual([null, 3, 3]);
    const { model: source, checkpoint } = build(config, 2);
    const shapes = new Map(source.namedParameters().map(([name, parameter]) => [name, parameter.shape]));
    source.dispose();
    const file = await openSafetensorsBytes(
      serializeSafetensors(
        Object.fromEntries(
          [...checkpoint]
            .filter(([name]) => name !== 'lm_head.weight') // tied: HF writes the table once
            .map(([name, data]) => [name, { dtype: 'F16' as const, shape: shapes.get(name)!, data }]),
        ),
      ),
      'f16 checkpoint',
    );
    const model = new Gemma2ForCausalLM(config);
    await gemma2.loadWeights(model, file);
    await expectNoLeak(async () => {
      const logits = await logitsOf(model, prompt);
      assertClose(logits.flat(), referenceGemma2Logits(config, checkpoint, prompt).flat(), 1e-4, 'logits');
    });
    model.dispose();
  });
});

describe('a Gemma 2 folder as the Hub has them', () => {
  it('loads transformers 4.42’s config and "hybrid" cache_implementation, and generates as HF 5.17', async () => {
    const folder = DECODER_FIXTURES.gemma2;
    const read = (name: string) => readFileSync(`${folder}/${name}`);
    const { layer_types, rope_parameters, use_bidirectional_attention, ...config } = JSON.parse(
      read('config.json').toString(),
    );
    expect(layer_types).toEqual(['sliding_attention', 'full_attention', 'sliding_attention']); // the old rule's
    const files = filesInMemory({
      'config.json': JSON.stringify({
        ...config,
        hidden_act: 'gelu_pytorch_tanh',
        rope_theta: rope_parameters.rope_theta,
        cache_implementation: 'hybrid',
        transformers_version: '4.42.4',
      }),
      'generation_config.json': JSON.stringify({
        bos_token_id: 1,
        eos_token_id: [2],
        pad_token_id: 0,
        cache_implementation: 'hybrid',
      }),
      'model.safetensors': read('model.safetensors'),
      'tokenizer.json': read('tokenizer.json').toString(),
      'tokenizer_config.json': read('tokenizer_config.json').toString(),
    });
    const { model, tokenizer } = await fromPretrained(files);
    const lm = model as Gemma2ForCausalLM;
    expect(lm.generationConfig.cacheImplementation).toBe('static');
    expect(lm.trunk.slidingWindows).toEqual([6, null, 6]);
    const greedy = readDecoderReference('gemma2').generate!.find((entry) => entry.name === 'greedy')!;
    expect(tokenizer!.encode(readDecoderReference('gemma2').tokenization[0]!.text)).toEqual(
      greedy.input_ids[0],
    );
    const { sequences } = await expectNoLeak(() =>
      lm.generateAll({ inputIds: greedy.input_ids }, { maxNewTokens: Number(greedy.kwargs.max_new_tokens) }),
    );
    expect(sequences).toEqual(greedy.sequences);
    lm.dispose();
  });
});

describe('Gemma 2 config.json', () => {
  it('takes Gemma2Config()’s defaults (the Gemma-2-2B shape): layers 0, 2, 4, … slide over 4096', () => {
    const config = resolveGemma2Config({ model_type: 'gemma2' });
    expect(config).toMatchObject({
      hiddenSize: 2304,
      intermediateSize: 9216,
      numHiddenLayers: 26,
      numAttentionHeads: 8,
      numKeyValueHeads: 4,
      headDim: 256,
      hiddenAct: 'gelu_pytorch_tanh',
      queryPreAttnScalar: 256,
      attnLogitSoftcapping: 50,
      finalLogitSoftcapping: 30,
      tieWordEmbeddings: true,
      padTokenId: 0,
    });
    expect(config.slidingWindows.slice(0, 4)).toEqual([4096, null, 4096, null]);
  });

  it.each([
    [
      { layer_types: ['full_attention'] },
      /gemma2 config: layer_types must be a list of "full_attention" or "sliding_attention", one for each of the 3 layers/,
    ],
    [
      { sliding_window: null },
      /gemma2 config: sliding_window must be a positive integer when layers use sliding_attention/,
    ],
    [{ sliding_window: 0 }, /gemma2 config: sliding_window must be a positive integer/],
    [{ query_pre_attn_scalar: 0 }, /gemma2 config: query_pre_attn_scalar must be a positive number, got 0/],
    [
      { attn_logit_softcapping: -1 },
      /gemma2 config: attn_logit_softcapping must be a positive number, got -1/,
    ],
    [
      { final_logit_softcapping: '30' },
      /gemma2 config: final_logit_softcapping must be a positive number, got "30"/,
    ],
    [
      { hidden_activation: 'geglu' },
      /gemma2 config: hidden_activation "geglu" is not a supported activation/,
    ],
    [
      { use_bidirectional_attention: true },
      /gemma2 config: use_bidirectional_attention must be false or null/,
    ],
  ])('%j is a ConfigFieldError naming the field', (change, message) => {
    expect(() => resolveGemma2Config({ ...tiny, ...change })).toThrow(ConfigFieldError);
    expect(() => resolveGemma2Config({ ...tiny, ...change })).toThrow(message);
  });

  it('full attention everywhere needs no window', () => {
    const config = resolveGemma2Config({
      ...tiny,
      sliding_window: null,
      layer_types: Array(3).fill('full_attention'),
    });
    expect(config.slidingWindows).toEqual([null, null, null]);
  });
});
