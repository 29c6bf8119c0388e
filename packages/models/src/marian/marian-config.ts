import {
  type BartConfig,
  readTransformerShape,
  requiredTokenId,
  validateBartConfig,
} from '../bart/bart-config.js';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/** `config.json` of a Marian (OPUS-MT) checkpoint, as Hugging Face writes it. */
export interface MarianRawConfig {
  model_type?: string;
  vocab_size?: number;
  /** Target vocabulary when it differs from the source one (defaults to `vocab_size`). */
  decoder_vocab_size?: number | null;
  /** One `model.shared` table for encoder and decoder (default true). */
  share_encoder_decoder_embeddings?: boolean;
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
  scale_embedding?: boolean;
  tie_word_embeddings?: boolean;
  pad_token_id?: number | null;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  decoder_start_token_id?: number | null;
  forced_bos_token_id?: number | null;
  forced_eos_token_id?: number | number[] | null;
}

/** Hugging Face `MarianConfig()` defaults (the OPUS-MT token ids). */
const MARIAN_DEFAULTS = {
  vocabSize: 58101,
  dModel: 1024,
  layers: 12,
  attentionHeads: 16,
  ffnDim: 4096,
  maxPositionEmbeddings: 1024,
  padTokenId: 58100,
  eosTokenId: 0,
  decoderStartTokenId: 58100,
  forcedEosTokenId: 0,
} as const;

/**
 * Reads a Marian `config.json` into the BART-style config Marian's model is built from: Marian is
 * BART with sinusoidal positions, no embedding LayerNorm, and optionally separate source and target
 * vocabularies (Hugging Face's `MarianMTModel` is BART's code with these changes).
 */
export function resolveMarianConfig(raw: MarianRawConfig | RawConfig): BartConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'marian');
  const vocabSize = fields.size('vocab_size', 'vocab', MARIAN_DEFAULTS.vocabSize);
  // HF: `decoder_vocab_size or vocab_size`, so null (or absent) means the shared vocabulary.
  const decoderVocabSize = fields.optionalSize('decoder_vocab_size', 'vocab') ?? vocabSize;
  return validateBartConfig(fields, {
    modelType: 'marian',
    vocabSize,
    decoderVocabSize,
    shareEncoderDecoderEmbeddings: fields.boolean('share_encoder_decoder_embeddings', true),
    tieWordEmbeddings: fields.tieWordEmbeddings(true),
    finalLogitsBias: true,
    ...readTransformerShape(fields, MARIAN_DEFAULTS),
    positionEncoding: 'sinusoidal',
    scaleEmbedding: fields.boolean('scale_embedding', false),
    layernormEmbedding: false,
    normalizeBefore: false,
    addFinalLayerNorm: false,
    padTokenId: requiredTokenId(fields, 'pad_token_id', MARIAN_DEFAULTS.padTokenId, decoderVocabSize),
    bosTokenId: fields.tokenId('bos_token_id', null, decoderVocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', MARIAN_DEFAULTS.eosTokenId, decoderVocabSize),
    decoderStartTokenId: requiredTokenId(
      fields,
      'decoder_start_token_id',
      MARIAN_DEFAULTS.decoderStartTokenId,
      decoderVocabSize,
    ),
    forcedBosTokenId: fields.tokenId('forced_bos_token_id', null, decoderVocabSize),
    forcedEosTokenId: fields.tokenIds(
      'forced_eos_token_id',
      MARIAN_DEFAULTS.forcedEosTokenId,
      decoderVocabSize,
    ),
  });
}
