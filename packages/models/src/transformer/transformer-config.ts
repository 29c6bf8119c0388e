import { type BartConfig, requiredTokenId, validateBartConfig } from '../bart/bart-config.js';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/**
 * `config.json` of the classic "Attention is all you need" Transformer (Vaswani et al., 2017), a
 * family of tsformer's own (`model_type: "transformer"`): every field is optional, the defaults are
 * the paper's base model (except the vocabularies, which have none: they must be given).
 */
export interface TransformerRawConfig {
  model_type?: 'transformer';
  /** Rows of the encoder's token table. */
  source_vocab_size?: number;
  /** Rows of the decoder's token table and of the output projection. */
  target_vocab_size?: number;
  /** Model width d_model (512). */
  d_model?: number;
  /** Attention heads h of every attention layer (8). */
  num_attention_heads?: number;
  /** Inner width d_ff of the ReLU feed-forward networks (2048). */
  ffn_dim?: number;
  /** Encoder layers N (6). */
  encoder_layers?: number;
  /** Decoder layers N (6). */
  decoder_layers?: number;
  /** P_drop: on the embedding sums and every sub-layer output (0.1). */
  dropout?: number;
  /** On the attention probabilities (0: the paper has none). */
  attention_dropout?: number;
  /** Rows of the sinusoid table: the longest source or target (512). */
  max_position_embeddings?: number;
  /** The output projection reads the target token table (false: a separate `lm_head`). */
  tie_word_embeddings?: boolean;
  /** Target padding (0). */
  pad_token_id?: number | null;
  /** The first decoder token (default: `pad_token_id`, as Marian and T5 start). */
  decoder_start_token_id?: number | null;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
}

const TRANSFORMER_BASE = {
  dModel: 512,
  heads: 8,
  ffnDim: 2048,
  layers: 6,
  dropout: 0.1,
  maxPositionEmbeddings: 512,
} as const;

/**
 * Reads a classic Transformer config into the encoder-decoder classes it shares with BART: post-norm
 * layers, ReLU feed-forward, token embeddings scaled by sqrt(d_model) (§3.4), the paper's
 * interleaved sinusoids (§3.5: feature 2i is sin, 2i+1 cos), no embedding LayerNorm, separate source
 * and target vocabularies, and an output projection without bias. Weight names follow BART's
 * (`model.encoder.layers.0.self_attn.q_proj.weight`, `lm_head.weight`, ...).
 */
export function resolveTransformerConfig(raw: TransformerRawConfig | RawConfig): BartConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'transformer');
  if (fields.value('source_vocab_size') === undefined) fields.fail('source_vocab_size', 'is required');
  if (fields.value('target_vocab_size') === undefined) fields.fail('target_vocab_size', 'is required');
  const vocabSize = fields.size('source_vocab_size', 'vocab', 0);
  const decoderVocabSize = fields.size('target_vocab_size', 'vocab', 0);
  const heads = fields.size('num_attention_heads', 'heads', TRANSFORMER_BASE.heads);
  const ffnDim = fields.size('ffn_dim', 'ffnWidth', TRANSFORMER_BASE.ffnDim);
  const dModel = fields.size('d_model', 'width', TRANSFORMER_BASE.dModel);
  if (dModel % heads !== 0) fields.fail('num_attention_heads', `(${heads}) must divide d_model (${dModel})`);
  const padTokenId = requiredTokenId(fields, 'pad_token_id', 0, decoderVocabSize);
  return validateBartConfig(fields, {
    modelType: 'transformer',
    vocabSize,
    decoderVocabSize,
    shareEncoderDecoderEmbeddings: false,
    tieWordEmbeddings: fields.tieWordEmbeddings(false),
    finalLogitsBias: false,
    dModel,
    encoderLayers: fields.size('encoder_layers', 'layers', TRANSFORMER_BASE.layers),
    decoderLayers: fields.size('decoder_layers', 'layers', TRANSFORMER_BASE.layers),
    encoderAttentionHeads: heads,
    decoderAttentionHeads: heads,
    encoderFfnDim: ffnDim,
    decoderFfnDim: ffnDim,
    activationFunction: 'relu',
    dropout: fields.rate('dropout', TRANSFORMER_BASE.dropout),
    attentionDropout: fields.rate('attention_dropout', 0),
    activationDropout: 0,
    maxPositionEmbeddings: fields.size(
      'max_position_embeddings',
      'positions',
      TRANSFORMER_BASE.maxPositionEmbeddings,
    ),
    positionEncoding: 'sinusoidal-interleaved',
    scaleEmbedding: true,
    layernormEmbedding: false,
    normalizeBefore: false,
    addFinalLayerNorm: false,
    padTokenId,
    bosTokenId: fields.tokenId('bos_token_id', null, decoderVocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', null, decoderVocabSize),
    decoderStartTokenId: requiredTokenId(fields, 'decoder_start_token_id', padTokenId, decoderVocabSize),
    forcedBosTokenId: null,
    forcedEosTokenId: null,
  });
}
