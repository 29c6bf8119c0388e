import { describeFieldValue, fieldRules } from '@tsformer/core-tensor';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';
import { UnsupportedConfigError } from '../errors.js';

/**
 * `config.json` of a GPT-2 checkpoint as Hugging Face writes it. `hidden_size`,
 * `max_position_embeddings`, `num_attention_heads` and `num_hidden_layers` are accepted as HF's
 * `attribute_map` aliases of `n_embd`, `n_positions`, `n_head` and `n_layer`.
 */
export interface GPT2RawConfig {
  model_type?: 'gpt2';
  vocab_size?: number;
  n_positions?: number;
  n_embd?: number;
  n_layer?: number;
  n_head?: number;
  /** Width of the MLP; null means 4 × n_embd. */
  n_inner?: number | null;
  activation_function?: string;
  resid_pdrop?: number;
  embd_pdrop?: number;
  attn_pdrop?: number;
  layer_norm_epsilon?: number;
  /** Divide attention scores by √headDim. */
  scale_attn_weights?: boolean;
  /** Also divide attention scores by (layer index + 1). */
  scale_attn_by_inverse_layer_idx?: boolean;
  /** Compute scores in float32 with the scale folded in (same result here: everything is float32). */
  reorder_and_upcast_attn?: boolean;
  add_cross_attention?: boolean;
  tie_word_embeddings?: boolean;
  /** Heads removed by `prune_heads`, by layer index: `{"0": [1, 3]}`. */
  pruned_heads?: Record<string, number[]>;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

/** A resolved GPT-2 configuration: camelCase, defaults applied, validated. */
export interface GPT2Config {
  modelType: 'gpt2';
  vocabSize: number;
  /** Rows of the learned position table (`n_positions`). */
  maxPositionEmbeddings: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  headDim: number;
  /** MLP width (`n_inner`, or 4 × hidden). */
  innerSize: number;
  activationFunction: string;
  residualDropout: number;
  embeddingDropout: number;
  attentionDropout: number;
  layerNormEpsilon: number;
  scaleAttentionWeights: boolean;
  scaleAttentionByInverseLayerIndex: boolean;
  reorderAndUpcastAttention: boolean;
  tieWordEmbeddings: boolean;
  /** Pruned head indices (of the original numbering) per layer. */
  prunedHeads: Readonly<Record<number, readonly number[]>>;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
}

/** Reads a GPT-2 `config.json` with `GPT2Config()`'s defaults (the 124M gpt2 shape). */
export function resolveGPT2Config(raw: GPT2RawConfig | RawConfig): GPT2Config {
  const fields = new ModelConfigFields(raw as RawConfig, 'gpt2');
  if (fields.boolean('add_cross_attention', false)) {
    throw new UnsupportedConfigError(
      'gpt2 config: add_cross_attention is true, but GPT-2 as an encoder-decoder decoder (cross-attention) ' +
        'is not supported; use a checkpoint without add_cross_attention',
    );
  }
  const hiddenField = fields.firstPresent('n_embd', 'hidden_size');
  const headsField = fields.firstPresent('n_head', 'num_attention_heads');
  const layersField = fields.firstPresent('n_layer', 'num_hidden_layers');
  const vocabSize = fields.size('vocab_size', 'vocab', 50257);
  const hiddenSize = fields.size(hiddenField, 'width', 768);
  const numAttentionHeads = fields.size(headsField, 'heads', 12);
  const numHiddenLayers = fields.size(layersField, 'layers', 12);
  if (hiddenSize % numAttentionHeads !== 0) {
    fields.fail(headsField, `(${numAttentionHeads}) must divide ${hiddenField} (${hiddenSize})`);
  }
  return {
    modelType: 'gpt2',
    vocabSize,
    maxPositionEmbeddings: fields.size(
      fields.firstPresent('n_positions', 'max_position_embeddings'),
      'positions',
      1024,
    ),
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    headDim: hiddenSize / numAttentionHeads,
    innerSize: fields.optionalSize('n_inner', 'ffnWidth') ?? 4 * hiddenSize,
    activationFunction: fields.activation('activation_function', 'gelu_new'),
    residualDropout: fields.rate('resid_pdrop', 0.1),
    embeddingDropout: fields.rate('embd_pdrop', 0.1),
    attentionDropout: fields.rate('attn_pdrop', 0.1),
    layerNormEpsilon: fields.positiveNumber('layer_norm_epsilon', 1e-5),
    scaleAttentionWeights: fields.boolean('scale_attn_weights', true),
    scaleAttentionByInverseLayerIndex: fields.boolean('scale_attn_by_inverse_layer_idx', false),
    reorderAndUpcastAttention: fields.boolean('reorder_and_upcast_attn', false),
    tieWordEmbeddings: fields.tieWordEmbeddings(true),
    prunedHeads: readPrunedHeads(fields, numHiddenLayers, numAttentionHeads),
    bosTokenId: fields.tokenId('bos_token_id', 50256, vocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', 50256, vocabSize),
    padTokenId: fields.tokenId('pad_token_id', null, vocabSize),
  };
}

function readPrunedHeads(
  fields: ModelConfigFields,
  numLayers: number,
  numHeads: number,
): Record<number, readonly number[]> {
  const raw = fields.read('pruned_heads', fieldRules.object, {});
  const pruned: Record<number, readonly number[]> = {};
  for (const [key, heads] of Object.entries(raw)) {
    const layer = Number(key);
    const valid =
      Number.isInteger(layer) &&
      layer >= 0 &&
      layer < numLayers &&
      Array.isArray(heads) &&
      heads.every((head) => Number.isInteger(head) && head >= 0 && head < numHeads) &&
      new Set(heads).size < numHeads;
    if (!valid) {
      fields.fail(
        'pruned_heads',
        `entry ${JSON.stringify(key)}: ${describeFieldValue(heads)} must list heads in [0, ${numHeads}) of a layer in [0, ${numLayers}), leaving at least one`,
      );
    }
    if ((heads as number[]).length > 0) pruned[layer] = [...new Set(heads as number[])].sort((a, b) => a - b);
  }
  return pruned;
}
