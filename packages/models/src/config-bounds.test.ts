// Hostile and mistyped config.json values: each is one typed line naming the field, found before any
// module is built (so fast, with flat memory), for every family's resolver.
import { RopeConfigError } from '@tsformer/attention';
import { CONFIG_SIZE_LIMITS, TsformerError } from '@tsformer/core-tensor';
import { describe, expect, it } from 'vitest';
import { MODEL_FAMILIES } from './auto.js';
import { ConfigFieldError, type RawConfig } from './config-fields.js';

/** The error `run` throws (it must throw). */
function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const family = (modelType: string) => MODEL_FAMILIES.find((known) => known.modelType === modelType)!;
const TRANSFORMER_VOCABS = { source_vocab_size: 10, target_vocab_size: 10 };

/** [model type, field changes, the field the error must name]. */
const HOSTILE: [string, RawConfig, string][] = [
  ['gpt2', { n_layer: 1_000_000 }, 'n_layer'],
  ['gpt2', { n_layer: 30_000 }, 'n_layer'],
  ['gpt2', { vocab_size: 1e308 }, 'vocab_size'],
  ['gpt2', { n_embd: 2 ** 64 - 1 }, 'n_embd'],
  ['gpt2', { n_positions: Number.POSITIVE_INFINITY }, 'n_positions'],
  ['gpt2', { n_inner: 2 ** 21 }, 'n_inner'],
  ['llama', { num_hidden_layers: 1e7 }, 'num_hidden_layers'],
  ['llama', { intermediate_size: 1e9 }, 'intermediate_size'],
  ['llama', { num_attention_heads: 2 ** 15, hidden_size: 2 ** 15 }, 'num_attention_heads'],
  ['llama', { head_dim: 2 ** 18 }, 'head_dim'],
  ['llama', { max_position_embeddings: 2 ** 25 }, 'max_position_embeddings'],
  ['qwen2', { num_key_value_heads: 1e6 }, 'num_key_value_heads'],
  ['qwen2', { use_sliding_window: true, sliding_window: 1e12 }, 'sliding_window'],
  ['qwen2', { max_window_layers: 1e6 }, 'max_window_layers'],
  ['mistral', { sliding_window: 2 ** 30 }, 'sliding_window'],
  ['bart', { encoder_layers: 5000 }, 'encoder_layers'],
  ['bart', { decoder_ffn_dim: 1e8 }, 'decoder_ffn_dim'],
  ['marian', { decoder_vocab_size: 1e9 }, 'decoder_vocab_size'],
  ['marian', { max_position_embeddings: 2 ** 20, d_model: 2 ** 10 }, 'max_position_embeddings'],
  ['transformer', { ...TRANSFORMER_VOCABS, decoder_layers: 1e5 }, 'decoder_layers'],
  ['transformer', { source_vocab_size: 1e308, target_vocab_size: 10 }, 'source_vocab_size'],
];

/** Values of the wrong JSON type that used to be ignored or misread. */
const MISTYPED: [string, RawConfig, string][] = [
  ['gpt2', { pruned_heads: [] }, 'pruned_heads'],
  ['gpt2', { n_layer: '12' }, 'n_layer'],
  ['qwen2', { use_sliding_window: false, sliding_window: 'wide' }, 'sliding_window'],
  ['qwen2', { layer_types: 'full_attention' }, 'layer_types'],
  ['mistral', { sliding_window: [4096] }, 'sliding_window'],
  ['bart', { scale_embedding: 1 }, 'scale_embedding'],
  ['marian', { share_encoder_decoder_embeddings: 'no' }, 'share_encoder_decoder_embeddings'],
];

describe('size fields are bounded, for every family', () => {
  it.each(HOSTILE)('%s %j names %s', (modelType, change, field) => {
    const error = errorOf(() => family(modelType).resolveConfig({ model_type: modelType, ...change }));
    expect(error).toBeInstanceOf(ConfigFieldError);
    expect((error as ConfigFieldError).field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^${modelType} config: ${field} `));
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toMatch(/Infinity.*NaN|18446744073709552000/);
  });

  it('admits the largest real checkpoints (Llama-4-Scout positions, Gemma 3 vocabulary, 405B widths)', () => {
    const config = family('llama').resolveConfig({
      model_type: 'llama',
      vocab_size: 262_144,
      hidden_size: 16_384,
      intermediate_size: 53_248,
      num_hidden_layers: 126,
      num_attention_heads: 128,
      num_key_value_heads: 8,
      max_position_embeddings: 10_485_760,
    });
    expect(config).toMatchObject({ numHiddenLayers: 126, maxPositionEmbeddings: 10_485_760 });
    const atLimits = family('gpt2').resolveConfig({
      n_layer: CONFIG_SIZE_LIMITS.layers,
      n_embd: CONFIG_SIZE_LIMITS.width,
      n_head: 1,
      vocab_size: CONFIG_SIZE_LIMITS.vocab,
      n_positions: CONFIG_SIZE_LIMITS.positions,
    });
    expect(atLimits).toMatchObject({ numHiddenLayers: 1024, vocabSize: 2 ** 22 });
  });
});

describe('a field of the wrong JSON type is an error naming it', () => {
  it.each(MISTYPED)('%s %j names %s', (modelType, change, field) => {
    const error = errorOf(() => family(modelType).resolveConfig({ model_type: modelType, ...change }));
    expect(error).toBeInstanceOf(ConfigFieldError);
    expect((error as ConfigFieldError).field).toBe(field);
  });

  it.each([
    [{ rope_parameters: [] }, /rope_parameters must be a JSON object, got \[\]/],
    [{ rope_scaling: 'linear' }, /rope_scaling must be a JSON object, got "linear"/],
    [
      { rope_parameters: { rope_type: 'linear', factor: '2' } },
      /rope_parameters.factor must be a positive number/,
    ],
  ])('RoPE: %j', (change, message) => {
    for (const modelType of ['llama', 'qwen2', 'mistral']) {
      const error = errorOf(() => family(modelType).resolveConfig({ model_type: modelType, ...change }));
      expect(error).toBeInstanceOf(RopeConfigError);
      expect(error).toBeInstanceOf(TsformerError);
      expect(error.message).toMatch(message);
    }
  });
});
