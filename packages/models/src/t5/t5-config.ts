import { CONFIG_SIZE_LIMITS } from '@tsformer/core-tensor';
import { ACTIVATION_NAMES } from '@tsformer/layers';
import { requiredTokenId } from '../bart/bart-config.js';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';

/**
 * `config.json` of a T5 checkpoint (T5, T5 v1.1, flan-t5), as Hugging Face writes it. Every field is
 * optional: `resolveT5Config` supplies `T5Config()`'s defaults (the t5-small shape).
 */
export interface T5RawConfig {
  model_type?: string;
  vocab_size?: number;
  d_model?: number;
  /** Width of one attention head; the attention's inner width is `num_heads · d_kv`. */
  d_kv?: number;
  d_ff?: number;
  num_layers?: number;
  /** Defaults to `num_layers`. */
  num_decoder_layers?: number | null;
  num_heads?: number;
  relative_attention_num_buckets?: number;
  relative_attention_max_distance?: number;
  dropout_rate?: number;
  layer_norm_epsilon?: number;
  /** `"relu"` (T5) or `"gated-<act>"` (v1.1 and flan-t5: `"gated-gelu"`, which means gelu_new). */
  feed_forward_proj?: string;
  /** Written by transformers next to `feed_forward_proj`; when present it wins, as in HF. */
  dense_act_fn?: string;
  is_gated_act?: boolean;
  /**
   * Transformers 5 forces the shared table on the head and keeps this field's old meaning in
   * `scale_decoder_outputs`; configs of older transformers say `false` for T5 v1.1 / flan-t5, whose
   * checkpoints carry their own `lm_head.weight`.
   */
  tie_word_embeddings?: boolean;
  /** Multiply the decoder output by `d_model^-0.5` before the head (transformers 5; default: `tie_word_embeddings`). */
  scale_decoder_outputs?: boolean;
  pad_token_id?: number | null;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  /** Defaults to `pad_token_id`. */
  decoder_start_token_id?: number | null;
}

/** A resolved T5 config: camelCase, defaults applied, validated. */
export interface T5Config {
  modelType: 't5';
  vocabSize: number;
  dModel: number;
  /** Width of one attention head (`d_kv`). */
  headDim: number;
  dFf: number;
  numLayers: number;
  numDecoderLayers: number;
  numHeads: number;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  dropoutRate: number;
  layerNormEpsilon: number;
  /** The feed-forward's activation, an HF `ACT2FN` name (`relu`, `gelu_new`). */
  denseActFn: string;
  /** `wo(act(wi_0 x) · wi_1 x)` instead of `wo(act(wi x))`. */
  isGatedAct: boolean;
  /**
   * `tie_word_embeddings`: the head is the shared table. When false the head is its own weight, the
   * checkpoint's `lm_head.weight` (or, where a checkpoint has none, a copy of the shared table).
   */
  tieWordEmbeddings: boolean;
  /** The decoder output is multiplied by `d_model^-0.5` before the head. */
  scaleDecoderOutputs: boolean;
  padTokenId: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  decoderStartTokenId: number;
}

/** `T5Config()`'s defaults (google-t5/t5-small). */
const T5_DEFAULTS = {
  vocabSize: 32128,
  dModel: 512,
  headDim: 64,
  dFf: 2048,
  numLayers: 6,
  numHeads: 8,
  relativeAttentionNumBuckets: 32,
  relativeAttentionMaxDistance: 128,
  dropoutRate: 0.1,
  layerNormEpsilon: 1e-6,
  feedForwardProj: 'relu',
  padTokenId: 0,
  eosTokenId: 1,
} as const;

/** Reads a T5 `config.json`: defaults, the feed-forward kind, the head's tie and scale, validation. */
export function resolveT5Config(raw: T5RawConfig | RawConfig): T5Config {
  const fields = new ModelConfigFields(raw as RawConfig, 't5');
  const vocabSize = fields.size('vocab_size', 'vocab', T5_DEFAULTS.vocabSize);
  // HF's attribute_map: hidden_size, num_attention_heads and num_hidden_layers are aliases.
  const dModel = fields.size(fields.firstPresent('d_model', 'hidden_size'), 'width', T5_DEFAULTS.dModel);
  const numHeads = fields.size(
    fields.firstPresent('num_heads', 'num_attention_heads'),
    'heads',
    T5_DEFAULTS.numHeads,
  );
  const headDim = fields.size('d_kv', 'width', T5_DEFAULTS.headDim);
  if (numHeads * headDim > CONFIG_SIZE_LIMITS.width) {
    fields.fail('d_kv', `(${headDim}) × num_heads (${numHeads}) must be at most ${CONFIG_SIZE_LIMITS.width}`);
  }
  const numLayers = fields.size(
    fields.firstPresent('num_layers', 'num_hidden_layers'),
    'layers',
    T5_DEFAULTS.numLayers,
  );
  const tieWordEmbeddings = fields.tieWordEmbeddings(true);
  const padTokenId = requiredTokenId(fields, 'pad_token_id', T5_DEFAULTS.padTokenId, vocabSize);
  return {
    modelType: 't5',
    vocabSize,
    dModel,
    headDim,
    dFf: fields.size('d_ff', 'ffnWidth', T5_DEFAULTS.dFf),
    numLayers,
    // HF: `num_decoder_layers if not None else num_layers`.
    numDecoderLayers: fields.optionalSize('num_decoder_layers', 'layers') ?? numLayers,
    numHeads,
    ...readRelativeAttention(fields),
    dropoutRate: fields.rate('dropout_rate', T5_DEFAULTS.dropoutRate),
    layerNormEpsilon: fields.positiveNumber('layer_norm_epsilon', T5_DEFAULTS.layerNormEpsilon),
    ...readFeedForward(fields),
    tieWordEmbeddings,
    scaleDecoderOutputs: fields.boolean('scale_decoder_outputs', tieWordEmbeddings),
    padTokenId,
    bosTokenId: fields.tokenId('bos_token_id', null, vocabSize),
    eosTokenId: fields.tokenIds('eos_token_id', T5_DEFAULTS.eosTokenId, vocabSize),
    decoderStartTokenId: requiredTokenId(fields, 'decoder_start_token_id', padTokenId, vocabSize),
  };
}

/**
 * The bucket table's numbers. The buckets split into exact ones and logarithmic ones up to
 * `max_distance` (half of them per direction in the encoder): at least 4 buckets, and a
 * `max_distance` past the exact ones, or the logarithm divides by zero.
 */
function readRelativeAttention(
  fields: ModelConfigFields,
): Pick<T5Config, 'relativeAttentionNumBuckets' | 'relativeAttentionMaxDistance'> {
  // One table row per bucket: bounded like a count of heads.
  const numBuckets = fields.size(
    'relative_attention_num_buckets',
    'heads',
    T5_DEFAULTS.relativeAttentionNumBuckets,
  );
  if (numBuckets < 4) fields.fail('relative_attention_num_buckets', `must be at least 4, got ${numBuckets}`);
  const maxDistance = fields.size(
    'relative_attention_max_distance',
    'positions',
    T5_DEFAULTS.relativeAttentionMaxDistance,
  );
  const exactBuckets = Math.floor(numBuckets / 2); // the decoder's, the larger of the two stacks'
  if (maxDistance <= exactBuckets) {
    fields.fail(
      'relative_attention_max_distance',
      `(${maxDistance}) must exceed relative_attention_num_buckets / 2 (${exactBuckets})`,
    );
  }
  return { relativeAttentionNumBuckets: numBuckets, relativeAttentionMaxDistance: maxDistance };
}

/**
 * `feed_forward_proj` as HF parses it: `"<act>"` or `"gated-<act>"`, `"gated-gelu"` meaning gelu_new
 * (for backwards compatibility); `dense_act_fn` / `is_gated_act`, when the file has them, win.
 */
function readFeedForward(fields: ModelConfigFields): Pick<T5Config, 'denseActFn' | 'isGatedAct'> {
  const proj = fields.string('feed_forward_proj', T5_DEFAULTS.feedForwardProj);
  const parts = proj.split('-');
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'gated')) {
    fields.fail(
      'feed_forward_proj',
      `must be "<activation>" or "gated-<activation>" (e.g. "relu", "gated-gelu"), got "${proj}"`,
    );
  }
  const derived = proj === 'gated-gelu' ? 'gelu_new' : parts.at(-1)!;
  if (!fields.has('dense_act_fn') && !ACTIVATION_NAMES.includes(derived)) {
    fields.fail(
      'feed_forward_proj',
      `("${proj}") names "${derived}", not a supported activation; supported: ${ACTIVATION_NAMES.join(', ')}`,
    );
  }
  return {
    denseActFn: fields.activation('dense_act_fn', derived),
    isGatedAct: fields.boolean('is_gated_act', parts.length === 2),
  };
}
