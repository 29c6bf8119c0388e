import { RopeConfigError, ropeInverseFrequencies } from '@tsformer/attention';
import { describe, expect, it } from 'vitest';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { resolvePhi3Config } from './phi3-config.js';

/** 48 factors each, as Phi-3-mini-128k's config.json has (values made up). */
const SHORT = Array.from({ length: 48 }, (_, i) => 1 + i / 100);
const LONG = Array.from({ length: 48 }, (_, i) => 1 + i);

/** Phi-3-mini-128k-instruct's config.json shape (transformers 4.x spelling). */
const mini128k: RawConfig = {
  model_type: 'phi3',
  vocab_size: 32064,
  hidden_size: 3072,
  intermediate_size: 8192,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 32,
  max_position_embeddings: 131072,
  original_max_position_embeddings: 4096,
  rope_theta: 10000,
  rope_scaling: { type: 'longrope', short_factor: SHORT, long_factor: LONG },
  sliding_window: 262144,
  bos_token_id: 1,
  eos_token_id: 32000,
  pad_token_id: 32000,
};

describe('resolvePhi3Config', () => {
  it("gives Phi3Config()'s defaults (the Phi-3-mini-4k shape)", () => {
    const config = resolvePhi3Config({ model_type: 'phi3' });
    expect(config).toMatchObject({
      vocabSize: 32064,
      hiddenSize: 3072,
      intermediateSize: 8192,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: 32,
      headDim: 96,
      hiddenAct: 'silu',
      maxPositionEmbeddings: 4096,
      rmsNormEps: 1e-5,
      queryKeyValueBias: false,
      outputProjectionBias: false,
      mlpBias: false,
      tieWordEmbeddings: false,
      residualDropout: 0,
      attentionDropout: 0,
      bosTokenId: 1,
      eosTokenId: 32000,
      padTokenId: 32000,
    });
    expect(config.rope).toMatchObject({ ropeType: 'default', ropeTheta: 10000, rotaryDim: 96 });
    expect(new Set(config.slidingWindows)).toEqual(new Set([null]));
  });

  it('reads Phi-3-mini-128k: longrope over 4096 → 131072, factor and attention factor from the ratio, every layer sliding', () => {
    const config = resolvePhi3Config(mini128k);
    expect(config.rope).toMatchObject({
      ropeType: 'longrope',
      factor: 32,
      originalMaxPositionEmbeddings: 4096,
      shortFactor: SHORT,
      longFactor: LONG,
    });
    expect(config.slidingWindows).toEqual(new Array(32).fill(262144));
    const scaling = Math.sqrt(1 + Math.log(32) / Math.log(4096));
    for (const [length, factors] of [
      [4096, SHORT],
      [4097, LONG],
    ] as const) {
      const { inverseFrequencies, attentionScaling } = ropeInverseFrequencies(config.rope, length);
      expect(attentionScaling).toBeCloseTo(scaling, 14);
      inverseFrequencies.forEach((frequency, i) => {
        const expected = 1 / (factors[i]! * 10000 ** ((2 * i) / 96));
        expect(Math.abs(frequency - expected) / expected).toBeLessThan(1e-6);
      });
    }
  });

  it('reads Phi-4-mini: partial_rotary_factor 0.75 of head_dim 128, so 48 factors', () => {
    const config = resolvePhi3Config({
      ...mini128k,
      vocab_size: 200064,
      hidden_size: 3072,
      num_attention_heads: 24,
      num_key_value_heads: 8,
      partial_rotary_factor: 0.75,
      tie_word_embeddings: true,
      pad_token_id: 199999,
    });
    expect(config).toMatchObject({ headDim: 128, numKeyValueHeads: 8, tieWordEmbeddings: true });
    expect(config.rope).toMatchObject({ ropeType: 'longrope', rotaryDim: 96, partialRotaryFactor: 0.75 });
  });

  it('takes the top-level original_max_position_embeddings (4096 when absent) over the RoPE dict’s, as HF 5', () => {
    const { original_max_position_embeddings: _, ...withoutTopLevel } = mini128k;
    const rope = resolvePhi3Config({
      ...withoutTopLevel,
      rope_scaling: { ...(mini128k.rope_scaling as object), original_max_position_embeddings: 8192 },
    }).rope;
    expect(rope).toMatchObject({ originalMaxPositionEmbeddings: 4096, factor: 32 });
  });

  it('keeps an explicit longrope factor (it only sets the attention factor)', () => {
    const rope = resolvePhi3Config({
      ...mini128k,
      rope_scaling: { ...(mini128k.rope_scaling as object), factor: 4 },
    }).rope;
    expect(rope).toMatchObject({ factor: 4 });
    expect(ropeInverseFrequencies(rope).attentionScaling).toBeCloseTo(
      Math.sqrt(1 + Math.log(4) / Math.log(4096)),
      14,
    );
  });

  it('reads the su and yarn rope types of early Phi-3 configs as longrope, without touching the input', () => {
    for (const type of ['su', 'yarn']) {
      const raw = { ...mini128k, rope_scaling: { type, short_factor: SHORT, long_factor: LONG } };
      const copy = structuredClone(raw);
      expect(resolvePhi3Config(raw).rope.ropeType).toBe('longrope');
      expect(raw).toEqual(copy);
    }
    const parameters = { rope_type: 'su', rope_theta: 10000, short_factor: SHORT, long_factor: LONG };
    const { rope_scaling: _, ...rest } = mini128k;
    expect(resolvePhi3Config({ ...rest, rope_parameters: parameters }).rope.ropeType).toBe('longrope');
  });
});

describe('Phi-3 config errors name the field', () => {
  it.each([
    [
      { rope_scaling: { type: 'linear', factor: 2 } },
      /phi3 config: rope_scaling.type "linear" is not a Phi-3 RoPE type/,
    ],
    [
      { rope_scaling: null, rope_parameters: { rope_type: 'dynamic', factor: 2 } },
      /phi3 config: rope_parameters.rope_type "dynamic" is not a Phi-3 RoPE type/,
    ],
    [{ resid_pdrop: 1.5 }, /phi3 config: resid_pdrop must be/],
    [{ embd_pdrop: 'none' }, /phi3 config: embd_pdrop must be/],
    [{ sliding_window: 0 }, /phi3 config: sliding_window must be a positive integer/],
    [{ original_max_position_embeddings: -1 }, /phi3 config: original_max_position_embeddings must be/],
    [
      { num_key_value_heads: 5 },
      /phi3 config: num_key_value_heads \(5\) must divide num_attention_heads \(32\)/,
    ],
  ])('%j', (change, message) => {
    expect(() => resolvePhi3Config({ ...mini128k, ...change })).toThrow(ConfigFieldError);
    expect(() => resolvePhi3Config({ ...mini128k, ...change })).toThrow(message);
  });

  it('longrope factor lists must cover the rotary dimension', () => {
    const short = {
      ...mini128k,
      rope_scaling: { type: 'longrope', short_factor: [1, 2], long_factor: LONG },
    };
    expect(() => resolvePhi3Config(short)).toThrow(RopeConfigError);
    expect(() => resolvePhi3Config(short)).toThrow(
      /rope_scaling.short_factor must be a list of 48 positive numbers/,
    );
    const missing = { ...mini128k, rope_scaling: { type: 'yarn', factor: 4 } };
    expect(() => resolvePhi3Config(missing)).toThrow(
      /rope_scaling.short_factor is required by rope_type "longrope"/,
    );
  });

  it('a pad_token_id left to its default 32000 must be a row of a smaller table (HF’s padding_idx)', () => {
    const { pad_token_id: _, ...raw } = { ...mini128k, vocab_size: 1000, eos_token_id: 2 };
    expect(() => resolvePhi3Config(raw)).toThrow(
      /phi3 config: pad_token_id is absent and its default 32000 is not below vocab_size \(1000\)/,
    );
    expect(resolvePhi3Config({ ...raw, pad_token_id: null }).padTokenId).toBeNull();
  });
});
