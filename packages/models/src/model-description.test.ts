// ModelFamily.describe: Hugging Face's num_parameters() of real configurations (fixtures), and, for many
// random small configs of every family, the same counts as the module tree the family builds (an
// independent computation: the tree is walked, not summed from sizes).
import { type Module, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { Conv1D, embeddingParameterCount, Linear } from '@tsformer/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../test/decoder-fixtures.js';
import { describeConfig, MODEL_FAMILIES } from './auto.js';
import { ConfigFieldError, type RawConfig } from './config-fields.js';
import { SelfAttention } from './self-attention.js';

const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;
const registered = new Set(MODEL_FAMILIES.map((family) => family.modelType));

beforeAll(async () => {
  await useBackend('wasm');
});

/** param-counts.json and param-counts-families.json, in one shape. */
interface CountedConfig {
  name: string;
  config: RawConfig;
  numParameters: number;
  withoutEmbeddings: number;
}

function countedConfigs(): CountedConfig[] {
  const counts = readJson<
    Record<string, { config: RawConfig; num_parameters: number; num_parameters_no_embeddings: number }>
  >(`${FIXTURES}param-counts.json`);
  const families = readJson<
    Record<string, { config: RawConfig; num_parameters: number; num_parameters_exclude_embeddings: number }>
  >(`${FIXTURES}param-counts-families.json`);
  return [
    ...Object.entries(counts).map(([name, entry]) => ({
      name,
      config: entry.config,
      numParameters: entry.num_parameters,
      withoutEmbeddings: entry.num_parameters_no_embeddings,
    })),
    ...Object.entries(families).map(([name, entry]) => ({
      name,
      config: entry.config,
      numParameters: entry.num_parameters,
      withoutEmbeddings: entry.num_parameters_exclude_embeddings,
    })),
  ];
}

describe("describe gives Hugging Face's num_parameters() from the numbers of real configs", () => {
  for (const { name, config, numParameters, withoutEmbeddings } of countedConfigs()) {
    const modelType = String(config.model_type);
    const known = registered.has(modelType);
    it.skipIf(!known)(`${name} (${modelType}${known ? '' : ': no family registered yet, skipped'})`, () => {
      const { description } = describeConfig(config);
      expect(description.parameterCount).toBe(numParameters);
      expect(description.parameterCount - description.embeddingParameterCount).toBe(withoutEmbeddings);
    });
  }
});

/** Σ in × out over the Linear and Conv1D modules of `module` (a tied head counted where it multiplies). */
function treeMatmulWeights(module: Module): number {
  let total = 0;
  for (const child of module.modules()) {
    if (child instanceof Linear || child instanceof Conv1D) total += child.inFeatures * child.outFeatures;
  }
  return total;
}

/** Every module of the tree with its dotted path. */
function* namedModules(module: Module, path = ''): Generator<[string, Module]> {
  yield [path, module];
  for (const [name, child] of module.namedChildren())
    yield* namedModules(child, path ? `${path}.${name}` : name);
}

/**
 * KV-cache bytes per token read off the tree: the keys of each decoder self-attention module
 * (`numKeyValueHeads × headDim`, whatever its projections are called or fused into), K and V, float32.
 */
function treeKvBytesPerToken(model: Module): number {
  let width = 0;
  for (const [path, module] of namedModules(model)) {
    if (path.includes('encoder.')) continue;
    if (module instanceof SelfAttention) width += module.numKeyValueHeads * module.headDim;
  }
  return 2 * width * 4;
}

const pick = <T>(random: SeededRandom, options: readonly T[]): T =>
  options[Math.floor(random.uniform() * options.length)]!;
const between = (random: SeededRandom, low: number, high: number): number =>
  low + Math.floor(random.uniform() * (high - low + 1));
const maybe = (random: SeededRandom) => random.uniform() < 0.5;

/** Random small configs of each registered family, covering every switch that changes the count. */
const RANDOM_CONFIG: Record<string, (random: SeededRandom) => RawConfig> = {
  gpt2: (random) => {
    const layers = between(random, 1, 4);
    const heads = between(random, 1, 4);
    const pruned: Record<string, number[]> = {};
    for (let layer = 0; layer < layers; layer++) {
      if (heads > 1 && maybe(random)) pruned[String(layer)] = [between(random, 0, heads - 1)];
    }
    return {
      model_type: 'gpt2',
      n_layer: layers,
      n_head: heads,
      n_embd: heads * between(random, 1, 6),
      n_inner: maybe(random) ? null : between(random, 1, 40),
      vocab_size: between(random, 1, 90),
      n_positions: between(random, 1, 40),
      tie_word_embeddings: maybe(random),
      pruned_heads: pruned,
      bos_token_id: 0,
      eos_token_id: 0,
    };
  },
  gpt_neox: (random) => {
    const heads = between(random, 1, 4);
    return {
      model_type: 'gpt_neox',
      num_hidden_layers: between(random, 1, 4),
      num_attention_heads: heads,
      hidden_size: heads * 4 * between(random, 1, 3), // head sizes 4, 8, 12: every rotary_pct rotates ≥ 1 channel
      intermediate_size: between(random, 1, 40),
      vocab_size: between(random, 3, 90),
      max_position_embeddings: between(random, 1, 64),
      rotary_pct: pick(random, [0.25, 0.5, 1]),
      use_parallel_residual: maybe(random),
      attention_bias: maybe(random),
      tie_word_embeddings: maybe(random),
    };
  },
  llama: (random) => llamaLike(random, 'llama'),
  qwen2: (random) => ({
    ...llamaLike(random, 'qwen2'),
    use_sliding_window: maybe(random),
    sliding_window: between(random, 1, 16),
    max_window_layers: between(random, 0, 3),
  }),
  mistral: (random) => ({ ...llamaLike(random, 'mistral'), sliding_window: pick(random, [null, 8]) }),
  qwen3: (random) => ({
    ...llamaLike(random, 'qwen3'),
    head_dim: 2 * between(random, 1, 4), // q_norm/k_norm are head_dim wide; Qwen3 never derives it
    use_sliding_window: maybe(random),
    max_window_layers: between(random, 0, 3),
  }),
  phi3: (random) => ({
    ...llamaLike(random, 'phi3'),
    pad_token_id: 0,
    sliding_window: pick(random, [null, 8]),
  }),
  gemma: (random) => llamaLike(random, 'gemma'),
  gemma2: (random) => ({ ...llamaLike(random, 'gemma2'), sliding_window: between(random, 1, 16) }),
  bart: (random) => ({
    ...bartLike(random, 'bart'),
    normalize_before: maybe(random),
    add_final_layer_norm: maybe(random),
    normalize_embedding: maybe(random),
  }),
  marian: (random) => {
    const shared = maybe(random);
    const base = bartLike(random, 'marian');
    return {
      ...base,
      share_encoder_decoder_embeddings: shared,
      decoder_vocab_size: shared ? base.vocab_size : between(random, 3, 60),
    };
  },
  transformer: (random) => {
    const heads = between(random, 1, 3);
    return {
      model_type: 'transformer',
      source_vocab_size: between(random, 3, 60),
      target_vocab_size: between(random, 3, 60),
      d_model: heads * 2 * between(random, 1, 3),
      num_attention_heads: heads,
      ffn_dim: between(random, 1, 30),
      encoder_layers: between(random, 1, 3),
      decoder_layers: between(random, 1, 3),
      max_position_embeddings: between(random, 1, 24),
      tie_word_embeddings: maybe(random),
    };
  },
  t5: (random) => ({
    model_type: 't5',
    vocab_size: between(random, 3, 60),
    d_model: between(random, 1, 12),
    d_kv: between(random, 1, 5),
    num_heads: between(random, 1, 3),
    d_ff: between(random, 1, 20),
    num_layers: between(random, 1, 3),
    num_decoder_layers: pick(random, [null, 1, 2, 3]),
    relative_attention_num_buckets: between(random, 4, 12),
    relative_attention_max_distance: between(random, 7, 40),
    feed_forward_proj: pick(random, ['relu', 'gated-gelu']),
    tie_word_embeddings: maybe(random),
  }),
};

function llamaLike(random: SeededRandom, modelType: string): RawConfig {
  const kvHeads = between(random, 1, 3);
  const heads = kvHeads * between(random, 1, 3);
  const headDim = 2 * between(random, 1, 4);
  const explicitHeadDim = maybe(random);
  return {
    model_type: modelType,
    num_hidden_layers: between(random, 1, 4),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: explicitHeadDim ? headDim : null,
    hidden_size: explicitHeadDim ? between(random, 1, 40) : heads * headDim,
    intermediate_size: between(random, 1, 40),
    vocab_size: between(random, 3, 90),
    max_position_embeddings: between(random, 1, 64),
    attention_bias: maybe(random),
    mlp_bias: maybe(random),
    tie_word_embeddings: maybe(random),
    bos_token_id: 0,
    eos_token_id: 1,
  };
}

function bartLike(random: SeededRandom, modelType: string): RawConfig & { vocab_size: number } {
  const dModel = pick(random, [2, 4, 6, 12]);
  const divisor = () =>
    pick(
      random,
      [1, 2].filter((heads) => dModel % heads === 0),
    );
  return {
    model_type: modelType,
    vocab_size: between(random, 3, 60),
    d_model: dModel,
    encoder_layers: between(random, 1, 3),
    decoder_layers: between(random, 1, 3),
    encoder_attention_heads: divisor(),
    decoder_attention_heads: divisor(),
    encoder_ffn_dim: between(random, 1, 20),
    decoder_ffn_dim: between(random, 1, 20),
    max_position_embeddings: between(random, 1, 24),
    tie_word_embeddings: maybe(random),
    pad_token_id: 0,
    bos_token_id: 0,
    eos_token_id: 1,
    decoder_start_token_id: 0,
    forced_eos_token_id: 1,
  };
}

describe('describe agrees with the module tree the family builds', () => {
  it('has a random-config generator for every registered family', () => {
    expect(Object.keys(RANDOM_CONFIG).sort()).toEqual([...registered].sort());
  });

  it.each([...registered])('%s: 25 random small configs', async (modelType) => {
    const random = new SeededRandom(modelType.length * 7919);
    await expectNoLeak(() => {
      for (let trial = 0; trial < 25; trial++) {
        const raw = RANDOM_CONFIG[modelType]!(random);
        const { family, config, description } = describeConfig(raw);
        const model = family.createModel(config);
        const encoder = [...namedModules(model)].find(([path]) => /(^|\.)encoder$/.test(path))?.[1];
        const encoderMatmul = encoder ? treeMatmulWeights(encoder) : 0;
        const counted = {
          parameters: description.parameterCount,
          embeddings: description.embeddingParameterCount,
          decoderMatmul: description.decoder.matmulWeights,
          encoderMatmul: description.encoder?.matmulWeights ?? 0,
          kvBytes: description.kvCacheBytesPerToken,
        };
        expect({ raw, counted }).toEqual({
          raw,
          counted: {
            parameters: model.numParameters(),
            embeddings: embeddingParameterCount(model),
            decoderMatmul: treeMatmulWeights(model) - encoderMatmul,
            encoderMatmul,
            kvBytes: treeKvBytesPerToken(model),
          },
        });
        expect(description.task).toBe(family.task);
        model.dispose();
      }
    });
  });
});

describe('describe stays exact', () => {
  it('refuses sizes, each within bounds, whose parameter count would pass 2^53', () => {
    const huge = {
      model_type: 'llama',
      num_hidden_layers: 1024,
      num_attention_heads: 2 ** 14,
      num_key_value_heads: 2 ** 14,
      head_dim: 2 ** 17,
      hidden_size: 2 ** 17,
    };
    expect(() => describeConfig(huge)).toThrow(ConfigFieldError);
    expect(() => describeConfig(huge)).toThrow(/llama config: sizes give .* parameters, past 2\^53/);
  });

  it('describes the largest config the bounds admit without building anything', () => {
    const { description } = describeConfig({
      model_type: 'gpt2',
      n_layer: 1024,
      n_embd: 2 ** 13,
      n_head: 64,
      vocab_size: 2 ** 22,
      n_positions: 2 ** 24,
    });
    expect(Number.isSafeInteger(description.parameterCount)).toBe(true);
    expect(description.decoder.layers).toBe(1024);
  });
});
