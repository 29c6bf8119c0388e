import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/**
 * `config.json` of a BART checkpoint, as Hugging Face writes it (snake_case, every field optional
 * here because `resolveBartConfig` supplies `BartConfig`'s defaults).
 */
export interface BartRawConfig {
  model_type?: string;
  vocab_size?: number;
  d_model?: number;
  encoder_layers?: number;
  decoder_layers?: number;
  encoder_attention_heads?: number;
  decoder_attention_heads?: number;
  encoder_ffn_dim?: number;
  decoder_ffn_dim?: number;
  activation_function?: string;
  dropout?: number;
  attention_dropout?: number;
  activation_dropout?: number;
  max_position_embeddings?: number;
  /** Multiply token embeddings by sqrt(d_model). */
  scale_embedding?: boolean;
  tie_word_embeddings?: boolean;
  /**
   * Pre-norm layers (mBART's layout: LayerNorm before each sub-layer, inside the residual). Hugging
   * Face's BART ignores this field of older configs; here it is honoured.
   */
  normalize_before?: boolean;
  /** A LayerNorm after the last encoder and decoder layer (`layer_norm`); defaults to `normalize_before`. */
  add_final_layer_norm?: boolean;
  /** `layernorm_embedding` after the embeddings (default true for BART). */
  normalize_embedding?: boolean;
  pad_token_id?: number | null;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  decoder_start_token_id?: number | null;
  forced_bos_token_id?: number | null;
  forced_eos_token_id?: number | number[] | null;
}

/** How an encoder-decoder of the BART kind encodes positions. */
export type PositionEncoding =
  /** BART's learned table of `max_position_embeddings + 2` rows; position p reads row p + 2. */
  | 'learned-offset-2'
  /** Marian's fixed sinusoids (sines in the first half of the features, cosines in the second). */
  | 'sinusoidal'
  /** The paper's fixed sinusoids (sine and cosine features alternate), for the classic Transformer. */
  | 'sinusoidal-interleaved';

/**
 * A resolved BART-style encoder-decoder (BART, Marian and their relatives share these classes and
 * differ only here). camelCase, defaults applied, validated.
 */
export interface BartConfig {
  modelType: string;
  /** Source vocabulary (and the shared one when embeddings are shared). */
  vocabSize: number;
  /** Target vocabulary: decoder embeddings, `lm_head` and `final_logits_bias` rows. */
  decoderVocabSize: number;
  /** One `model.shared` table for encoder and decoder (requires equal vocabularies). */
  shareEncoderDecoderEmbeddings: boolean;
  /** `lm_head.weight` is the decoder's token embedding table. */
  tieWordEmbeddings: boolean;
  /** A `final_logits_bias` buffer added to the logits (BART, Marian). */
  finalLogitsBias: boolean;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderAttentionHeads: number;
  decoderAttentionHeads: number;
  encoderFfnDim: number;
  decoderFfnDim: number;
  activationFunction: string;
  dropout: number;
  attentionDropout: number;
  activationDropout: number;
  maxPositionEmbeddings: number;
  positionEncoding: PositionEncoding;
  scaleEmbedding: boolean;
  layernormEmbedding: boolean;
  normalizeBefore: boolean;
  addFinalLayerNorm: boolean;
  padTokenId: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  decoderStartTokenId: number;
  forcedBosTokenId: number | null;
  forcedEosTokenId: number | number[] | null;
}

/** BART's defaults (Hugging Face `BartConfig()`, the facebook/bart-large shape). */
const BART_DEFAULTS = {
  vocabSize: 50265,
  dModel: 1024,
  layers: 12,
  attentionHeads: 16,
  ffnDim: 4096,
  maxPositionEmbeddings: 1024,
  padTokenId: 1,
  bosTokenId: 0,
  eosTokenId: 2,
  decoderStartTokenId: 2,
  forcedEosTokenId: 2,
} as const;

/** Reads a BART `config.json`: defaults, validation (errors name the field), camelCase. */
export function resolveBartConfig(raw: BartRawConfig | RawConfig): BartConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'bart');
  const vocabSize = fields.size('vocab_size', 'vocab', BART_DEFAULTS.vocabSize);
  const normalizeBefore = fields.boolean('normalize_before', false);
  return validateBartConfig(fields, {
    modelType: 'bart',
    vocabSize,
    decoderVocabSize: vocabSize,
    shareEncoderDecoderEmbeddings: true,
    tieWordEmbeddings: fields.tieWordEmbeddings(true),
    finalLogitsBias: true,
    ...readTransformerShape(fields, BART_DEFAULTS),
    positionEncoding: 'learned-offset-2',
    scaleEmbedding: fields.boolean('scale_embedding', false),
    layernormEmbedding: fields.boolean('normalize_embedding', true),
    normalizeBefore,
    addFinalLayerNorm: fields.boolean('add_final_layer_norm', normalizeBefore),
    padTokenId: requiredTokenId(fields, 'pad_token_id', BART_DEFAULTS.padTokenId, vocabSize),
    bosTokenId: fields.tokenId('bos_token_id', BART_DEFAULTS.bosTokenId, vocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', BART_DEFAULTS.eosTokenId, vocabSize),
    decoderStartTokenId: requiredTokenId(
      fields,
      'decoder_start_token_id',
      BART_DEFAULTS.decoderStartTokenId,
      vocabSize,
    ),
    forcedBosTokenId: fields.tokenId('forced_bos_token_id', null, vocabSize),
    forcedEosTokenId: fields.tokenIds('forced_eos_token_id', BART_DEFAULTS.forcedEosTokenId, vocabSize),
  });
}

/** The sizes every BART-style config spells the same way (`d_model`, `encoder_layers`, ...). */
export type TransformerShape = Pick<
  BartConfig,
  | 'dModel'
  | 'encoderLayers'
  | 'decoderLayers'
  | 'encoderAttentionHeads'
  | 'decoderAttentionHeads'
  | 'encoderFfnDim'
  | 'decoderFfnDim'
  | 'activationFunction'
  | 'dropout'
  | 'attentionDropout'
  | 'activationDropout'
  | 'maxPositionEmbeddings'
>;

/** Reads the shared shape fields with a family's defaults. */
export function readTransformerShape(
  fields: ModelConfigFields,
  defaults: {
    dModel: number;
    layers: number;
    attentionHeads: number;
    ffnDim: number;
    maxPositionEmbeddings: number;
  },
): TransformerShape {
  return {
    dModel: fields.size('d_model', 'width', defaults.dModel),
    encoderLayers: fields.size('encoder_layers', 'layers', defaults.layers),
    decoderLayers: fields.size('decoder_layers', 'layers', defaults.layers),
    encoderAttentionHeads: fields.size('encoder_attention_heads', 'heads', defaults.attentionHeads),
    decoderAttentionHeads: fields.size('decoder_attention_heads', 'heads', defaults.attentionHeads),
    encoderFfnDim: fields.size('encoder_ffn_dim', 'ffnWidth', defaults.ffnDim),
    decoderFfnDim: fields.size('decoder_ffn_dim', 'ffnWidth', defaults.ffnDim),
    activationFunction: fields.activation('activation_function', 'gelu'),
    dropout: fields.rate('dropout', 0.1),
    attentionDropout: fields.rate('attention_dropout', 0),
    activationDropout: fields.rate('activation_dropout', 0),
    maxPositionEmbeddings: fields.size(
      'max_position_embeddings',
      'positions',
      defaults.maxPositionEmbeddings,
    ),
  };
}

/**
 * The largest sinusoid table (`max_position_embeddings × d_model` values) a config may ask for: unlike
 * a learned table it is computed when the model is built, in float64. 2^26 values is 512 MiB there;
 * OPUS-MT needs 512 × 512.
 */
const MAX_SINUSOID_VALUES = 2 ** 26;

/**
 * Checks what no single field shows: heads dividing `d_model`, vocabularies that can be shared, a
 * sinusoid table that can be computed.
 */
export function validateBartConfig(fields: ModelConfigFields, config: BartConfig): BartConfig {
  for (const field of ['encoder_attention_heads', 'decoder_attention_heads'] as const) {
    const heads =
      field === 'encoder_attention_heads' ? config.encoderAttentionHeads : config.decoderAttentionHeads;
    if (config.dModel % heads !== 0) fields.fail(field, `(${heads}) must divide d_model (${config.dModel})`);
  }
  if (config.shareEncoderDecoderEmbeddings && config.decoderVocabSize !== config.vocabSize) {
    fields.fail(
      'decoder_vocab_size',
      `(${config.decoderVocabSize}) must equal vocab_size (${config.vocabSize}) when embeddings are shared`,
    );
  }
  const sinusoidValues = config.maxPositionEmbeddings * config.dModel;
  if (config.positionEncoding !== 'learned-offset-2' && sinusoidValues > MAX_SINUSOID_VALUES) {
    fields.fail(
      'max_position_embeddings',
      `(${config.maxPositionEmbeddings}) × d_model (${config.dModel}) must be at most ${MAX_SINUSOID_VALUES}: the sinusoid table is computed when the model is built`,
    );
  }
  return config;
}

/** A token id generation cannot do without (`pad_token_id`, `decoder_start_token_id`). */
export function requiredTokenId(
  fields: ModelConfigFields,
  field: string,
  fallback: number,
  vocabSize: number,
): number {
  const id = fields.tokenId(field, fallback, vocabSize);
  if (id === null) fields.fail(field, 'is required by an encoder-decoder model');
  return id;
}
