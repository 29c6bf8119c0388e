// Phi-3 beyond the fixture, against an independent float64 forward written from HF's modeling_phi3.py:
// longrope (short factors up to the pretraining length, long factors past it, chosen per forward from
// its largest position as HF's dynamic_rope_update does) with partial rotary (Phi-4-mini), grouped
// heads in the fused qkv_proj, a sliding window, a tied head, dropout only in training, and float16 /
// bfloat16 checkpoints.
import * as tf from '@tensorflow/tfjs-core';
import type { DecoderCache } from '@tsformer/cache';
import {
  openSafetensorsBytes,
  type SafetensorsDtype,
  serializeSafetensors,
  useBackend,
} from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { type CausalLM, generateAll } from '@tsformer/decoding';
import {
  add,
  attend,
  type Checkpoint,
  linear,
  type Matrix,
  randomCheckpoint,
  rmsNorm,
  ropeRotation,
  silu,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ids } from '../../test/decoder-fixtures.js';
import type { RawConfig } from '../config-fields.js';
import { phi3 } from './index.js';
import { type Phi3Config, resolvePhi3Config } from './phi3-config.js';
import { type Phi3DecoderLayer, Phi3ForCausalLM } from './phi3-model.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const SHORT_FACTOR = [1, 1.5, 2.5];
const LONG_FACTOR = [2, 5, 11];
/** Pretraining length of the tiny configs: sequences of more than 16 tokens take the long factors. */
const ORIGINAL = 16;

/**
 * A tiny Phi-4-mini: 4 query heads and 2 key/value heads of 8, RoPE on 6 of the 8 channels
 * (`partial_rotary_factor` 0.75, so 3 longrope factors each), longrope over 16 → 64 positions.
 */
const tiny: RawConfig = {
  model_type: 'phi3',
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  original_max_position_embeddings: ORIGINAL,
  partial_rotary_factor: 0.75,
  rope_scaling: { type: 'longrope', short_factor: SHORT_FACTOR, long_factor: LONG_FACTOR },
  rms_norm_eps: 1e-5,
  bos_token_id: 0,
  eos_token_id: 1,
  pad_token_id: 0,
};
const tokens = [3, 17, 42, 8, 8, 29, 1, 33, 47, 12, 5, 40, 22, 9, 31, 6, 44, 2, 19, 27];

/** HF's longrope frequencies in float64: `1 / (factor_i · theta^(2i / dim))` over the rotary dimension. */
function longropeFrequencies(factors: number[], dim = 6, theta = 10000): number[] {
  return factors.map((factor, i) => 1 / (factor * theta ** ((2 * i) / dim)));
}

/** HF's default attention factor: `sqrt(1 + ln(max / original) / ln(original))`. */
const ATTENTION_FACTOR = Math.sqrt(1 + Math.log(64 / ORIGINAL) / Math.log(ORIGINAL));
const shortRotation = ropeRotation(longropeFrequencies(SHORT_FACTOR), ATTENTION_FACTOR);
const longRotation = ropeRotation(longropeFrequencies(LONG_FACTOR), ATTENTION_FACTOR);

type Rotation = (vector: number[], position: number) => number[];

/** Columns `start … start + width` of every row. */
const columns = (x: Matrix, start: number, width: number): Matrix =>
  x.map((row) => row.slice(start, start + width));

/**
 * Logits `[seq, vocab]` of a Phi-3 model in float64 (modeling_phi3.py, eval mode): per layer
 * `x + o_proj(attn(qkv_proj(norm(x))))` with qkv split `[q | k | v]`, then `x + down(silu(gate) · up)`
 * with gate_up split `[gate | up]`; `rotate` is the RoPE each position's query and key got.
 */
function referencePhi3Logits(
  config: Phi3Config,
  weights: Checkpoint,
  inputIds: number[],
  rotate: Rotation,
): Matrix {
  const {
    hiddenSize,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    headDim,
    intermediateSize,
  } = config;
  const w = (name: string) => weights.get(name)!;
  const embed = w('model.embed_tokens.weight');
  let hidden: Matrix = inputIds.map((id) => embed.slice(id * hiddenSize, (id + 1) * hiddenSize));
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    const p = `model.layers.${layer}.`;
    const x = rmsNorm(hidden, w(`${p}input_layernorm.weight`), config.rmsNormEps);
    const qkv = linear(x, w(`${p}self_attn.qkv_proj.weight`), (heads + 2 * kvHeads) * headDim);
    const context = attend(
      columns(qkv, 0, heads * headDim),
      columns(qkv, heads * headDim, kvHeads * headDim),
      columns(qkv, (heads + kvHeads) * headDim, kvHeads * headDim),
      {
        positions: inputIds.map((_, i) => i),
        heads,
        kvHeads,
        headDim,
        scale: 1 / Math.sqrt(headDim),
        slidingWindow: config.slidingWindows[layer],
        rotate,
      },
    );
    hidden = add(hidden, linear(context, w(`${p}self_attn.o_proj.weight`), hiddenSize));
    const y = rmsNorm(hidden, w(`${p}post_attention_layernorm.weight`), config.rmsNormEps);
    const gateUp = linear(y, w(`${p}mlp.gate_up_proj.weight`), 2 * intermediateSize);
    const product = gateUp.map((row) =>
      row.slice(0, intermediateSize).map((gate, i) => silu(gate) * row[intermediateSize + i]!),
    );
    hidden = add(hidden, linear(product, w(`${p}mlp.down_proj.weight`), hiddenSize));
  }
  hidden = rmsNorm(hidden, w('model.norm.weight'), config.rmsNormEps);
  return linear(hidden, config.tieWordEmbeddings ? embed : w('lm_head.weight'), config.vocabSize);
}

/** Runs `inputIds` through `model` (with `cache` when given) and downloads the logits `[seq, vocab]`. */
function logitsOf(model: Phi3ForCausalLM, inputIds: number[], cache?: DecoderCache): number[][] {
  return tf.tidy(() => {
    const logits = model.forward(ids([inputIds]), cache ? { cache } : {}).logits;
    return (logits.arraySync() as number[][][])[0]!;
  });
}

/** A model of `raw` with seeded weights; the caller disposes it. */
function seeded(raw: RawConfig, seed: number): { model: Phi3ForCausalLM; checkpoint: Checkpoint } {
  const model = phi3.createModel(phi3.resolveConfig(raw));
  return { model, checkpoint: randomCheckpoint(model, seed) };
}

describe('Phi-3 longrope with partial rotary against a float64 reference', () => {
  it('uses the short factors up to the pretraining length and the long ones past it, for the whole forward', async () => {
    await expectNoLeak(() => {
      const { model, checkpoint } = seeded(tiny, 1);
      for (const [length, rotation] of [
        [12, shortRotation],
        [ORIGINAL, shortRotation],
        [ORIGINAL + 1, longRotation],
        [tokens.length, longRotation],
      ] as const) {
        const prompt = tokens.slice(0, length);
        const expected = referencePhi3Logits(model.config, checkpoint, prompt, rotation);
        assertClose(logitsOf(model, prompt).flat(), expected.flat(), 1e-4, `${length} tokens`);
      }
      // the factors matter: the other set gives other logits
      const other = referencePhi3Logits(model.config, checkpoint, tokens, shortRotation);
      expect(Math.abs(other.at(-1)![0]! - logitsOf(model, tokens).at(-1)![0]!)).toBeGreaterThan(1e-3);
      model.dispose();
    });
  });

  it('switches per forward as HF does: cached keys keep the factors of the step that computed them', async () => {
    await expectNoLeak(() => {
      const { model, checkpoint } = seeded(tiny, 2);
      for (const implementation of ['dynamic', 'static'] as const) {
        // 12 tokens at once (short), then one token per step: positions 12-15 short, 16-19 long
        const cache = model.createCache(1, tokens.length, implementation);
        const steps = [logitsOf(model, tokens.slice(0, 12), cache)];
        for (let position = 12; position < tokens.length; position++) {
          steps.push(logitsOf(model, [tokens[position]!], cache));
        }
        cache.dispose();
        const rotation: Rotation = (vector, position) =>
          (position < ORIGINAL ? shortRotation : longRotation)(vector, position);
        const expected = referencePhi3Logits(model.config, checkpoint, tokens, rotation);
        assertClose(steps.flat(2), expected.flat(), 1e-4, `${implementation} cache, step by step`);
      }
      model.dispose();
    });
  });

  it('reads the 4.x and the transformers 5 spellings alike, partial_rotary_factor inside or outside the dict', () => {
    const fromScaling = resolvePhi3Config(tiny).rope;
    const { rope_scaling: _, partial_rotary_factor: __, ...rest } = tiny;
    const fromParameters = resolvePhi3Config({
      ...rest,
      rope_parameters: {
        rope_type: 'longrope',
        rope_theta: 10000,
        partial_rotary_factor: 0.75,
        short_factor: SHORT_FACTOR,
        long_factor: LONG_FACTOR,
      },
    }).rope;
    expect(fromParameters).toEqual(fromScaling);
    expect(fromScaling).toMatchObject({
      ropeType: 'longrope',
      rotaryDim: 6,
      factor: 4,
      originalMaxPositionEmbeddings: ORIGINAL,
    });
  });
});

describe('Phi-3 longrope generation against a float64 greedy decode', () => {
  it('recomputes the cache where the sequence first passes the pretraining length, as HF generate', async () => {
    await expectNoLeak(async () => {
      const { model, checkpoint } = seeded(tiny, 2); // a seed where stale short-rotated keys change the tokens
      expect([model.reusesCache(12, 16), model.reusesCache(16, 17), model.reusesCache(17, 18)]).toEqual([
        true,
        false,
        true,
      ]);
      // float64: every step runs the whole sequence, its RoPE factors chosen by its length
      const sequence = tokens.slice(0, 12);
      while (sequence.length < 20) {
        const rotation = sequence.length <= ORIGINAL ? shortRotation : longRotation;
        const last = referencePhi3Logits(model.config, checkpoint, sequence, rotation).at(-1)!;
        const sorted = [...last].sort((a, b) => b - a);
        expect(sorted[0]! - sorted[1]!).toBeGreaterThan(1e-3); // no near-tie to flip
        sequence.push(last.indexOf(sorted[0]!));
      }
      for (const options of [
        { cacheImplementation: 'dynamic' as const },
        { cacheImplementation: 'static' as const },
        { useCache: false },
      ]) {
        const prompt = { inputIds: [tokens.slice(0, 12)] };
        const { sequences } = await model.generateAll(prompt, { maxNewTokens: 8, ...options });
        expect(sequences, JSON.stringify(options)).toEqual([sequence]);
      }
      // the same model without the hook keeps the short-rotated keys and leaves HF's tokens
      const withoutHook: CausalLM = {
        vocabSize: model.vocabSize,
        forwardLogits: (inputs) => model.forwardLogits(inputs),
        createCache: (rows, maxLength, implementation) => model.createCache(rows, maxLength, implementation),
      };
      const stale = await generateAll(withoutHook, { inputIds: [tokens.slice(0, 12)] }, { maxNewTokens: 8 });
      expect(stale.sequences).not.toEqual([sequence]);
      model.dispose();
    });
  });
});

describe('Phi-3 configurations against a float64 reference', () => {
  it('default RoPE, a sliding window shorter than the prompt, a tied head, dropout rates ignored in eval', async () => {
    await expectNoLeak(() => {
      const { rope_scaling: _, partial_rotary_factor: __, ...plain } = tiny;
      const raw = {
        ...plain,
        sliding_window: 5,
        tie_word_embeddings: true,
        resid_pdrop: 0.3,
        attention_dropout: 0.2,
      };
      const { model, checkpoint } = seeded(raw, 3);
      expect(model.config.slidingWindows).toEqual([5, 5]);
      const untied = phi3.createModel(phi3.resolveConfig({ ...raw, tie_word_embeddings: false }));
      expect(untied.numParameters() - model.numParameters()).toBe(50 * 32); // lm_head is embed_tokens
      untied.dispose();
      const rotation = ropeRotation(Array.from({ length: 4 }, (_, i) => 1 / 10000 ** ((2 * i) / 8)));
      const expected = referencePhi3Logits(model.config, checkpoint, tokens, rotation);
      const actual = logitsOf(model, tokens);
      assertClose(actual.flat(), expected.flat(), 1e-4, 'windowed logits');
      const unwindowed = { ...model.config, slidingWindows: [null, null] };
      const full = referencePhi3Logits(unwindowed, checkpoint, tokens, rotation);
      expect(Math.abs(full.at(-1)![0]! - actual.at(-1)![0]!)).toBeGreaterThan(1e-3); // the window matters
      model.dispose();
    });
  });

  it('applies resid_pdrop in training only, on both residual branches, and no embedding dropout (as HF 5)', async () => {
    await expectNoLeak(() => {
      const differs = (raw: RawConfig): boolean => {
        const { model } = seeded(raw, 4);
        const layer = model.model.layers.items[0] as Phi3DecoderLayer;
        expect([layer.residAttnDropout.rate, layer.residMlpDropout.rate]).toEqual([
          model.config.residualDropout,
          model.config.residualDropout,
        ]);
        const evaluated = logitsOf(model, tokens);
        model.train();
        const trained = logitsOf(model, tokens);
        model.dispose();
        return evaluated.flat().some((value, i) => value !== trained.flat()[i]);
      };
      expect(differs({ ...tiny, resid_pdrop: 0.5 })).toBe(true);
      expect(differs({ ...tiny, resid_pdrop: 0, embd_pdrop: 0.9 })).toBe(false);
    });
  });

  it.each([
    ['F16', (x: number) => x],
    ['BF16', truncateToBfloat16],
  ] as const)('loads %s weights exactly (values the dtype represents)', async (dtype, represent) => {
    await expectNoLeak(async () => {
      const config = resolvePhi3Config(tiny);
      const source = new Phi3ForCausalLM(config);
      const checkpoint = randomCheckpoint(source, 5);
      const shapes = new Map(source.namedParameters().map(([name, parameter]) => [name, parameter.shape]));
      const halves = Object.fromEntries(
        [...checkpoint].map(([name, data]) => [
          name,
          { dtype: dtype as SafetensorsDtype, shape: shapes.get(name)!, data: data.map(represent) },
        ]),
      );
      for (const [name, parameter] of source.namedParameters()) {
        parameter.assign(tf.tensor(halves[name]!.data, [...parameter.shape]));
      }
      const expected = logitsOf(source, tokens);
      source.dispose();
      const file = await openSafetensorsBytes(serializeSafetensors(halves), `${dtype} checkpoint`);
      expect(file.dtype('model.layers.0.self_attn.qkv_proj.weight')).toBe(dtype);
      const model = new Phi3ForCausalLM(config);
      await phi3.loadWeights(model, file);
      assertClose(logitsOf(model, tokens).flat(), expected.flat(), 0, `${dtype}-loaded logits`);
      model.dispose();
    });
  });
});

/** The bfloat16 value of `x` rounded toward zero (the top 16 bits of its float32). */
function truncateToBfloat16(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer);
  bits[0]! &= 0xffff0000;
  return new Float32Array(bits.buffer)[0]!;
}
