import { type RawRopeParameters, type RopeParameters, resolveRopeParameters } from '@tsformer/attention';
import { fieldRules } from '@tsformer/core-tensor';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/**
 * `config.json` of a GPT-NeoX checkpoint (Pythia, GPT-NeoX-20B, StableLM-alpha) as Hugging Face writes
 * it. RoPE comes as transformers 5's `rope_parameters` (or 4.x's `rope_scaling`) with the family's own
 * older names beside it: `rotary_emb_base` for `rope_theta`, `rotary_pct` for `partial_rotary_factor`.
 */
export interface GPTNeoXRawConfig {
  model_type?: 'gpt_neox';
  vocab_size?: number;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  hidden_act?: string;
  /** Fraction of each head that rotates (older configs); `rope_parameters.partial_rotary_factor` wins. */
  rotary_pct?: number;
  /** RoPE base (older configs); `rope_parameters.rope_theta` wins. */
  rotary_emb_base?: number;
  rope_parameters?: RawRopeParameters | null;
  rope_scaling?: RawRopeParameters | null;
  attention_dropout?: number;
  hidden_dropout?: number;
  max_position_embeddings?: number;
  layer_norm_eps?: number;
  /** `x + attn(ln1(x)) + mlp(ln2(x))` when true; `x + attn(ln1(x))`, then `+ mlp(ln2(·))` when false. */
  use_parallel_residual?: boolean;
  /** Biases on `query_key_value` and `dense`. */
  attention_bias?: boolean;
  tie_word_embeddings?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

/** A resolved GPT-NeoX configuration: camelCase, defaults applied, validated. */
export interface GPTNeoXConfig {
  modelType: 'gpt_neox';
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** `hidden_size / num_attention_heads`. */
  headDim: number;
  intermediateSize: number;
  hiddenAct: string;
  attentionDropout: number;
  /** Dropout on the embeddings and on the attention and MLP outputs (training only). */
  hiddenDropout: number;
  maxPositionEmbeddings: number;
  layerNormEps: number;
  useParallelResidual: boolean;
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  rope: RopeParameters;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
}

/**
 * Reads a GPT-NeoX `config.json` with `GPTNeoXConfig()`'s defaults (the GPT-NeoX-20B shape).
 *
 * RoPE as transformers 5.17 reads it: the dict is `rope_scaling` (when non-empty) or `rope_parameters`;
 * its `rope_theta` falls back to `rotary_emb_base`, then 10000; its `partial_rotary_factor` to
 * `rotary_pct`, then 0.25. Top-level `rope_theta` and `partial_rotary_factor` are not GPT-NeoX fields
 * and are ignored, as HF ignores them.
 */
export function resolveGPTNeoXConfig(raw: GPTNeoXRawConfig | RawConfig): GPTNeoXConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'gpt_neox');
  const vocabSize = fields.size('vocab_size', 'vocab', 50432);
  const hiddenSize = fields.size('hidden_size', 'width', 6144);
  const numHiddenLayers = fields.size('num_hidden_layers', 'layers', 44);
  const numAttentionHeads = fields.size('num_attention_heads', 'heads', 64);
  if (hiddenSize % numAttentionHeads !== 0) {
    fields.fail('num_attention_heads', `(${numAttentionHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const headDim = hiddenSize / numAttentionHeads;
  const maxPositionEmbeddings = fields.size('max_position_embeddings', 'positions', 2048);
  const rope = resolveRopeParameters({
    rope_scaling: fields.value('rope_scaling') as RawRopeParameters | undefined,
    rope_parameters: fields.value('rope_parameters') as RawRopeParameters | undefined,
    rope_theta: fields.positiveNumber('rotary_emb_base', 10000),
    partial_rotary_factor: fields.read('rotary_pct', fieldRules.numberIn(0, 1, { min: true }), 0.25),
    head_dim: headDim,
    max_position_embeddings: maxPositionEmbeddings,
  });
  return {
    modelType: 'gpt_neox',
    vocabSize,
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    headDim,
    intermediateSize: fields.size('intermediate_size', 'ffnWidth', 24576),
    hiddenAct: fields.activation('hidden_act', 'gelu'),
    attentionDropout: fields.rate('attention_dropout', 0),
    hiddenDropout: fields.rate('hidden_dropout', 0),
    maxPositionEmbeddings,
    layerNormEps: fields.positiveNumber('layer_norm_eps', 1e-5),
    useParallelResidual: fields.boolean('use_parallel_residual', true),
    attentionBias: fields.boolean('attention_bias', true),
    tieWordEmbeddings: fields.tieWordEmbeddings(false),
    rope,
    bosTokenId: fields.tokenId('bos_token_id', 0, vocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', 2, vocabSize),
    padTokenId: fields.tokenId('pad_token_id', null, vocabSize),
  };
}
