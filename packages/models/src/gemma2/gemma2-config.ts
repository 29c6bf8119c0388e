import { fieldRules } from '@tsformer/core-tensor';
import type { ModelConfigFields, RawConfig } from '../config-fields.js';
import { type GemmaRawConfig, gemmaConfigFields, readGemmaStyleConfig } from '../gemma/gemma-config.js';
import type { LlamaConfig, LlamaDefaults } from '../llama/llama-config.js';

/** `config.json` of a Gemma 2 checkpoint: Gemma's fields plus its attention and soft-capping settings. */
export interface Gemma2RawConfig extends GemmaRawConfig {
  /** The MLP's activation (Gemma 2 reads this one; `hidden_act` is not used). */
  hidden_activation?: string;
  /** Scores are scaled by its inverse square root instead of head_dim's. */
  query_pre_attn_scalar?: number;
  /** `tanh(scores / cap) · cap` on the scaled attention scores; null: none. */
  attn_logit_softcapping?: number | null;
  /** `tanh(logits / cap) · cap` on the final logits; null: none. */
  final_logit_softcapping?: number | null;
  /** The window of the sliding-attention layers; null: none may slide. */
  sliding_window?: number | null;
  /** transformers 5 writes each layer's type: `full_attention` or `sliding_attention`. */
  layer_types?: string[] | null;
}

/** A resolved Gemma 2 config: Llama's shape (sliding windows per layer included) plus Gemma 2's scoring. */
export interface Gemma2Config extends LlamaConfig {
  /** Attention scores are scaled by `queryPreAttnScalar^-0.5`. */
  queryPreAttnScalar: number;
  /** Soft cap of the scaled attention scores, or null for none. */
  attnLogitSoftcapping: number | null;
  /** Soft cap of the final logits, or null for none. */
  finalLogitSoftcapping: number | null;
}

/** `Gemma2Config()`'s defaults (the Gemma-2-2B shape). */
const GEMMA2_DEFAULTS: LlamaDefaults = {
  vocabSize: 256000,
  hiddenSize: 2304,
  intermediateSize: 9216,
  numHiddenLayers: 26,
  numAttentionHeads: 8,
  numKeyValueHeads: 4,
  maxPositionEmbeddings: 8192,
  rmsNormEps: 1e-6,
  bosTokenId: 2,
  eosTokenId: 1,
};

/**
 * Reads a Gemma 2 `config.json` (`Gemma2Config()`'s defaults): Gemma's fields, the MLP activation from
 * `hidden_activation`, `query_pre_attn_scalar`, both soft caps (an explicit null turns one off), and a
 * sliding window on the layers `layer_types` names (without it, on every even layer, as HF decides).
 */
export function resolveGemma2Config(raw: Gemma2RawConfig | RawConfig): Gemma2Config {
  const fields = gemmaConfigFields(raw as RawConfig, 'gemma2');
  const config = readGemmaStyleConfig(fields, GEMMA2_DEFAULTS, (layers) =>
    gemma2SlidingWindows(fields, layers),
  );
  return {
    ...config,
    hiddenAct: fields.activation('hidden_activation', 'gelu_pytorch_tanh'),
    queryPreAttnScalar: fields.positiveNumber('query_pre_attn_scalar', 256),
    attnLogitSoftcapping: softCap(fields, 'attn_logit_softcapping', 50),
    finalLogitSoftcapping: softCap(fields, 'final_logit_softcapping', 30),
  };
}

/** A soft cap: `fallback` when the field is absent, none when it is null (HF's `None`). */
function softCap(fields: ModelConfigFields, field: string, fallback: number): number | null {
  return field in fields.raw ? fields.optional(field, fieldRules.positiveNumber) : fallback;
}

/** The per-layer types transformers 5 writes (`layer_types`). */
const LAYER_TYPES = ['full_attention', 'sliding_attention'] as const;

/**
 * Each layer's window: `sliding_window` (4096 when absent) on the layers `layer_types` marks
 * `sliding_attention`, or, without `layer_types`, on layers 0, 2, 4, … (HF's rule); null elsewhere.
 */
function gemma2SlidingWindows(fields: ModelConfigFields, numLayers: number): (number | null)[] {
  const window = 'sliding_window' in fields.raw ? fields.optionalSize('sliding_window', 'positions') : 4096;
  const layerTypes =
    fields.optional(
      'layer_types',
      fieldRules.list(
        fieldRules.oneOf(LAYER_TYPES),
        `a list of "full_attention" or "sliding_attention", one for each of the ${numLayers} layers`,
        { length: numLayers },
      ),
    ) ?? Array.from({ length: numLayers }, (_, layer) => LAYER_TYPES[layer % 2 === 0 ? 1 : 0]);
  if (layerTypes.includes('sliding_attention') && window === null) {
    fields.fail('sliding_window', 'must be a positive integer when layers use sliding_attention');
  }
  return layerTypes.map((type) => (type === 'sliding_attention' ? window : null));
}
