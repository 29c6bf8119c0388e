import { ModelConfigFields, type RawConfig } from '../config-fields.js';
import {
  type LlamaConfig,
  type LlamaDefaults,
  type LlamaRawConfig,
  readLlamaStyleConfig,
} from '../llama/llama-config.js';

/**
 * `config.json` of a Gemma checkpoint: Llama's fields, read with Gemma's defaults. The MLP's activation is
 * `hidden_act`, as in transformers 5 (whose `GemmaConfig` has no `hidden_activation`: a
 * `hidden_activation` key older files carry is not read, there as here).
 */
export interface GemmaRawConfig extends LlamaRawConfig {
  /** Bidirectional attention (embedding models); a causal LM runs with false or null only. */
  use_bidirectional_attention?: boolean | null;
}

/** A resolved Gemma config: Llama's shape (Gemma runs on Llama's classes through their hooks). */
export type GemmaConfig = LlamaConfig;

/** `GemmaConfig()`'s defaults (the Gemma-7B shape) for the sizes and ids every Llama-style reader takes. */
const GEMMA_DEFAULTS: LlamaDefaults = {
  vocabSize: 256000,
  hiddenSize: 3072,
  intermediateSize: 24576,
  numHiddenLayers: 28,
  numAttentionHeads: 16,
  numKeyValueHeads: 16,
  maxPositionEmbeddings: 8192,
  rmsNormEps: 1e-6,
  bosTokenId: 2,
  eosTokenId: 1,
};

/**
 * Gemma's defaults where Llama's reader has its own: an explicit 256-wide head (not hidden / heads), the
 * tanh GELU, a tied head and pad id 0. They stand in for absent fields before the config is read.
 */
const GEMMA_FIELD_DEFAULTS: RawConfig = {
  head_dim: 256,
  hidden_act: 'gelu_pytorch_tanh',
  tie_word_embeddings: true,
  pad_token_id: 0,
};

/** The fields of a Gemma-family `config.json` (`model_type` names them in errors), Gemma's defaults filled in. */
export function gemmaConfigFields(raw: RawConfig, modelType: string): ModelConfigFields {
  return new ModelConfigFields({ ...GEMMA_FIELD_DEFAULTS, ...raw }, modelType);
}

/** Reads a Gemma `config.json` (`GemmaConfig()`'s defaults): full attention in every layer. */
export function resolveGemmaConfig(raw: GemmaRawConfig | RawConfig): GemmaConfig {
  return readGemmaStyleConfig(gemmaConfigFields(raw as RawConfig, 'gemma'), GEMMA_DEFAULTS, (layers) =>
    Array.from({ length: layers }, () => null),
  );
}

/**
 * What Gemma and Gemma 2 read alike: Llama's fields with `defaults`, `attention_bias` on all four
 * projections, no MLP bias (HF's Gemma MLPs have none), causal attention only; `slidingWindows` gives
 * each layer's window once the number of layers is known.
 */
export function readGemmaStyleConfig(
  fields: ModelConfigFields,
  defaults: LlamaDefaults,
  slidingWindows: (numHiddenLayers: number) => (number | null)[],
): LlamaConfig {
  if (fields.boolean('use_bidirectional_attention', false)) {
    fields.fail('use_bidirectional_attention', 'must be false or null: a causal LM attends causally');
  }
  const attentionBias = fields.boolean('attention_bias', false);
  const config = readLlamaStyleConfig(fields, defaults, ({ numHiddenLayers }) => ({
    queryKeyValueBias: attentionBias,
    outputProjectionBias: attentionBias,
    slidingWindows: slidingWindows(numHiddenLayers),
  }));
  return { ...config, mlpBias: false };
}
