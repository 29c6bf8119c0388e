import { RopeConfigError } from '@tsformer/attention';
import { describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, readJson } from '../../test/decoder-fixtures.js';
import { ConfigFieldError, type RawConfig } from '../config-fields.js';
import { resolveQwen3Config } from './qwen3-config.js';

const twoLayers: RawConfig = {
  model_type: 'qwen3',
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12,
};

describe('resolveQwen3Config resolves as Qwen3Config does', () => {
  it('the fixture: explicit head_dim, tied head, full attention everywhere', () => {
    const config = resolveQwen3Config(readJson(`${DECODER_FIXTURES.qwen3}/config.json`));
    expect(config).toMatchObject({
      modelType: 'qwen3',
      hiddenSize: 64,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      headDim: 32,
      tieWordEmbeddings: true,
      queryKeyValueBias: false,
      outputProjectionBias: false,
      mlpBias: false,
      slidingWindows: [null, null],
      bosTokenId: 0,
      eosTokenId: 0,
    });
  });

  it('Qwen3Config() defaults: head_dim 128 and 32 key/value heads whatever the other sizes', () => {
    expect(resolveQwen3Config({ model_type: 'qwen3' })).toMatchObject({
      vocabSize: 151936,
      hiddenSize: 4096,
      intermediateSize: 22016,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: 32,
      headDim: 128,
      maxPositionEmbeddings: 32768,
      rmsNormEps: 1e-6,
      tieWordEmbeddings: false,
      rope: { ropeType: 'default', ropeTheta: 10000, headDim: 128 },
      bosTokenId: null,
      eosTokenId: null,
    });
    const { head_dim: _, num_key_value_heads: __, ...unsized } = twoLayers;
    const config = resolveQwen3Config({ ...unsized, num_attention_heads: 64, hidden_size: 64 });
    expect([config.headDim, config.numKeyValueHeads]).toEqual([128, 32]); // not 64 / 64, not 64
    // an explicit null is HF's "one key/value head per query head"
    expect(resolveQwen3Config({ ...twoLayers, num_key_value_heads: null }).numKeyValueHeads).toBe(4);
  });

  it('attention_bias puts biases on q, k, v and o; mlp_bias is not a Qwen3 field', () => {
    const config = resolveQwen3Config({ ...twoLayers, attention_bias: true, mlp_bias: true });
    expect([config.queryKeyValueBias, config.outputProjectionBias, config.mlpBias]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('sliding windows: use_sliding_window from max_window_layers on (window 4096 by default), or layer_types', () => {
    const windows = (change: RawConfig) => resolveQwen3Config({ ...twoLayers, ...change }).slidingWindows;
    expect(windows({ use_sliding_window: true, sliding_window: 8, max_window_layers: 1 })).toEqual([null, 8]);
    expect(windows({ use_sliding_window: true, max_window_layers: 0 })).toEqual([4096, 4096]);
    expect(windows({ use_sliding_window: true, sliding_window: 8 })).toEqual([null, null]); // 28 layers full
    expect(windows({ use_sliding_window: false, sliding_window: 8, max_window_layers: 0 })).toEqual([
      null,
      null,
    ]);
    expect(
      windows({
        use_sliding_window: true,
        sliding_window: 8,
        max_window_layers: 0,
        layer_types: ['sliding_attention', 'full_attention'],
      }),
    ).toEqual([8, null]);
  });

  it('never mutates the config it reads', () => {
    const raw = {
      ...twoLayers,
      rope_scaling: Object.freeze({ rope_type: 'yarn', factor: 4, original_max_position_embeddings: 16 }),
    };
    const snapshot = structuredClone(raw);
    resolveQwen3Config(Object.freeze(raw));
    expect(raw).toEqual(snapshot);
  });
});

describe('Qwen3 config errors name the field', () => {
  it.each([
    [{ head_dim: 0 }, /qwen3 config: head_dim must be a positive integer/],
    [
      { num_key_value_heads: 3 },
      /qwen3 config: num_key_value_heads \(3\) must divide num_attention_heads \(4\)/,
    ],
    [{ attention_bias: 'yes' }, /qwen3 config: attention_bias must be true or false/],
    [{ max_window_layers: -1 }, /qwen3 config: max_window_layers must be an integer/],
    [
      { layer_types: ['full_attention'] },
      /qwen3 config: layer_types must be a list of "full_attention" or "sliding_attention", one for each of the 2 layers/,
    ],
    [
      { layer_types: ['full_attention', 'sliding_attention'] },
      /qwen3 config: sliding_window must be a positive integer when layer_types has sliding_attention layers/,
    ],
    [
      { use_sliding_window: true, sliding_window: 0 },
      /qwen3 config: sliding_window must be a positive integer/,
    ],
  ])('%j', (change, message) => {
    expect(() => resolveQwen3Config({ ...twoLayers, ...change })).toThrow(ConfigFieldError);
    expect(() => resolveQwen3Config({ ...twoLayers, ...change })).toThrow(message);
  });

  it('RoPE settings through the attention package’s resolver', () => {
    expect(() => resolveQwen3Config({ ...twoLayers, rope_scaling: { rope_type: 'yarn' } })).toThrow(
      RopeConfigError,
    );
    expect(() => resolveQwen3Config({ ...twoLayers, rope_scaling: { rope_type: 'yarn' } })).toThrow(
      /rope_scaling.factor is required by rope_type "yarn"/,
    );
  });
});
