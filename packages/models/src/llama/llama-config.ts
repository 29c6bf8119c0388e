import { type RawRopeConfig, type RopeParameters, resolveRopeParameters } from '@tsformer/attention';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/**
 * `config.json` of a Llama checkpoint as Hugging Face writes it. RoPE comes either as transformers 5's
 * `rope_parameters` or as 4.x's `rope_theta` + `rope_scaling`.
 */
export interface LlamaRawConfig extends RawRopeConfig {
  model_type?: string;
  vocab_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  /** Key/value heads for grouped-query attention; null means one per query head. */
  num_key_value_heads?: number | null;
  /** null means hidden_size / num_attention_heads. */
  head_dim?: number | null;
  hidden_act?: string;
  max_position_embeddings?: number;
  rms_norm_eps?: number;
  attention_bias?: boolean;
  attention_dropout?: number;
  mlp_bias?: boolean;
  tie_word_embeddings?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

/**
 * A resolved Llama-architecture configuration, camelCase, defaults applied, validated. Qwen2 and
 * Mistral resolve to this same shape (they run on Llama's classes) and differ only in the biases of
 * the attention projections and in sliding-window layers.
 */
export interface LlamaConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  hiddenAct: string;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  /** Biases on q_proj, k_proj and v_proj (Llama: `attention_bias`; Qwen2: always). */
  queryKeyValueBias: boolean;
  /** Bias on o_proj (Llama: `attention_bias`; Qwen2 and Mistral: never). */
  outputProjectionBias: boolean;
  attentionDropout: number;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  rope: RopeParameters;
  /** Per layer: the sliding-window length of its attention, or null for full attention. */
  slidingWindows: readonly (number | null)[];
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
}

/** The defaults a family gives the fields every Llama-style config spells the same way. */
export interface LlamaDefaults {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** null: one key/value head per query head. */
  numKeyValueHeads: number | null;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** What a family decides beyond the shared fields. */
export type LlamaVariant = Pick<LlamaConfig, 'queryKeyValueBias' | 'outputProjectionBias' | 'slidingWindows'>;

/** `LlamaConfig()`'s defaults (the Llama-2-7B shape). */
const LLAMA_DEFAULTS: LlamaDefaults = {
  vocabSize: 32000,
  hiddenSize: 4096,
  intermediateSize: 11008,
  numHiddenLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: null,
  maxPositionEmbeddings: 2048,
  rmsNormEps: 1e-6,
  bosTokenId: 1,
  eosTokenId: 2,
};

/** Reads a Llama `config.json`: defaults, derived `head_dim` / `num_key_value_heads`, validation. */
export function resolveLlamaConfig(raw: LlamaRawConfig | RawConfig): LlamaConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'llama');
  const attentionBias = fields.boolean('attention_bias', false);
  return readLlamaStyleConfig(fields, LLAMA_DEFAULTS, (shape) => ({
    queryKeyValueBias: attentionBias,
    outputProjectionBias: attentionBias,
    slidingWindows: Array.from({ length: shape.numHiddenLayers }, () => null),
  }));
}

/**
 * The fields Llama, Qwen2 and Mistral share, read with a family's defaults; `variant` supplies the
 * family's own decisions once the sizes are known.
 */
export function readLlamaStyleConfig(
  fields: ModelConfigFields,
  defaults: LlamaDefaults,
  variant: (shape: { numHiddenLayers: number }) => LlamaVariant,
): LlamaConfig {
  const vocabSize = fields.size('vocab_size', 'vocab', defaults.vocabSize);
  const hiddenSize = fields.size('hidden_size', 'width', defaults.hiddenSize);
  const numHiddenLayers = fields.size('num_hidden_layers', 'layers', defaults.numHiddenLayers);
  const numAttentionHeads = fields.size('num_attention_heads', 'heads', defaults.numAttentionHeads);
  // HF: an absent field takes the family's default; `null` means one kv head per attention head.
  const numKeyValueHeads =
    'num_key_value_heads' in fields.raw
      ? (fields.optionalSize('num_key_value_heads', 'heads') ?? numAttentionHeads)
      : (defaults.numKeyValueHeads ?? numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    fields.fail(
      'num_key_value_heads',
      `(${numKeyValueHeads}) must divide num_attention_heads (${numAttentionHeads})`,
    );
  }
  const explicitHeadDim = fields.optionalSize('head_dim', 'width');
  if (explicitHeadDim === null && hiddenSize % numAttentionHeads !== 0) {
    fields.fail(
      'num_attention_heads',
      `(${numAttentionHeads}) must divide hidden_size (${hiddenSize}) when head_dim is not given`,
    );
  }
  const headDim = explicitHeadDim ?? hiddenSize / numAttentionHeads;
  const maxPositionEmbeddings = fields.size(
    'max_position_embeddings',
    'positions',
    defaults.maxPositionEmbeddings,
  );
  const rope = resolveRopeParameters({
    ...(fields.raw as RawRopeConfig),
    head_dim: headDim,
    max_position_embeddings: maxPositionEmbeddings,
  });
  const { queryKeyValueBias, outputProjectionBias, slidingWindows } = variant({ numHiddenLayers });
  return {
    modelType: fields.modelType,
    vocabSize,
    hiddenSize,
    intermediateSize: fields.size('intermediate_size', 'ffnWidth', defaults.intermediateSize),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    hiddenAct: fields.activation('hidden_act', 'silu'),
    maxPositionEmbeddings,
    rmsNormEps: fields.positiveNumber('rms_norm_eps', defaults.rmsNormEps),
    queryKeyValueBias,
    outputProjectionBias,
    attentionDropout: fields.rate('attention_dropout', 0),
    mlpBias: fields.boolean('mlp_bias', false),
    tieWordEmbeddings: fields.tieWordEmbeddings(false),
    rope,
    slidingWindows,
    bosTokenId: fields.tokenId('bos_token_id', defaults.bosTokenId, vocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', defaults.eosTokenId, vocabSize),
    padTokenId: fields.tokenId('pad_token_id', null, vocabSize),
  };
}
