import { ModelConfigFields, type RawConfig } from '../config-fields.js';
import { type LlamaConfig, type LlamaDefaults, readLlamaStyleConfig } from '../llama/llama-config.js';
import { type Qwen2RawConfig, qwen2SlidingWindows } from '../qwen2/qwen2-config.js';

/**
 * `config.json` of a Qwen3 checkpoint: Llama's fields (`attention_bias` puts biases on q/k/v and o;
 * `mlp_bias` does not exist: the MLP never has biases) plus Qwen2's sliding-window switches. RoPE comes
 * as `rope_parameters` or as `rope_theta` + `rope_scaling` (yarn for long contexts).
 */
export type Qwen3RawConfig = Qwen2RawConfig;

/** `Qwen3Config()`'s defaults (the Qwen3-8B-like shape of its docstring). */
const QWEN3_DEFAULTS: LlamaDefaults = {
  vocabSize: 151936,
  hiddenSize: 4096,
  intermediateSize: 22016,
  numHiddenLayers: 32,
  numAttentionHeads: 32,
  // an explicit null means one key/value head per query head (HF's __post_init__); absent: 32, below
  numKeyValueHeads: null,
  maxPositionEmbeddings: 32768,
  rmsNormEps: 1e-6,
  bosTokenId: null,
  eosTokenId: null,
};

/**
 * The `Qwen3Config` defaults of fields that Llama derives when they are absent: `head_dim` is 128 and
 * `num_key_value_heads` 32 whatever the other sizes are.
 */
const QWEN3_FIXED_DEFAULTS = { head_dim: 128, num_key_value_heads: 32 } as const;

/**
 * Reads a Qwen3 `config.json` as `Qwen3Config` resolves it. Qwen3 is Llama's architecture with a
 * per-head RMSNorm on queries and keys (the model's business, not the config's), an explicit
 * `head_dim` (128 by default, whatever `hidden_size / num_attention_heads` is), `attention_bias` on all
 * four projections, and Qwen2's sliding-window rule (`use_sliding_window`, `sliding_window` default
 * 4096, `max_window_layers`, or an explicit `layer_types`). Never mutates `raw`.
 */
export function resolveQwen3Config(raw: Qwen3RawConfig | RawConfig): LlamaConfig {
  const fields = new ModelConfigFields({ ...QWEN3_FIXED_DEFAULTS, ...(raw as RawConfig) }, 'qwen3');
  const attentionBias = fields.boolean('attention_bias', false);
  const config = readLlamaStyleConfig(fields, QWEN3_DEFAULTS, ({ numHiddenLayers }) => ({
    queryKeyValueBias: attentionBias,
    outputProjectionBias: attentionBias,
    slidingWindows: qwen2SlidingWindows(fields, numHiddenLayers),
  }));
  return { ...config, mlpBias: false }; // Qwen3MLP has no biases, whatever the config says
}
