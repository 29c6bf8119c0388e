// Reading T5 config.json files: T5Config()'s defaults, the configs transformers 4 and 5 write for
// t5-small and flan-t5, and typed errors naming the field for values no model can be built from.
import { describe, expect, it } from 'vitest';
import { ConfigFieldError } from '../config-fields.js';
import { resolveT5Config } from './t5-config.js';

/** google/flan-t5-small's config.json (transformers 4.x). */
const FLAN_T5_SMALL = {
  architectures: ['T5ForConditionalGeneration'],
  d_ff: 1024,
  d_kv: 64,
  d_model: 512,
  decoder_start_token_id: 0,
  dense_act_fn: 'gelu_new',
  dropout_rate: 0.1,
  eos_token_id: 1,
  feed_forward_proj: 'gated-gelu',
  initializer_factor: 1.0,
  is_encoder_decoder: true,
  is_gated_act: true,
  layer_norm_epsilon: 1e-6,
  model_type: 't5',
  n_positions: 512,
  num_decoder_layers: 8,
  num_heads: 6,
  num_layers: 8,
  output_past: true,
  pad_token_id: 0,
  relative_attention_max_distance: 128,
  relative_attention_num_buckets: 32,
  tie_word_embeddings: false,
  transformers_version: '4.23.1',
  use_cache: true,
  vocab_size: 32128,
};

describe('resolveT5Config', () => {
  it('gives T5Config()’s defaults: t5-small, ReLU, the head tied and scaled, decoding from the pad token', () => {
    expect(resolveT5Config({ model_type: 't5' })).toEqual({
      modelType: 't5',
      vocabSize: 32128,
      dModel: 512,
      headDim: 64,
      dFf: 2048,
      numLayers: 6,
      numDecoderLayers: 6,
      numHeads: 8,
      relativeAttentionNumBuckets: 32,
      relativeAttentionMaxDistance: 128,
      dropoutRate: 0.1,
      layerNormEpsilon: 1e-6,
      denseActFn: 'relu',
      isGatedAct: false,
      tieWordEmbeddings: true,
      scaleDecoderOutputs: true,
      padTokenId: 0,
      bosTokenId: null,
      eosTokenId: 1,
      decoderStartTokenId: 0,
    });
  });

  it('reads flan-t5 as transformers 4 saved it: gated gelu_new, its own head, no output scale', () => {
    expect(resolveT5Config(FLAN_T5_SMALL)).toMatchObject({
      numHeads: 6,
      headDim: 64, // inner width 384, d_model 512
      numLayers: 8,
      numDecoderLayers: 8,
      denseActFn: 'gelu_new',
      isGatedAct: true,
      tieWordEmbeddings: false,
      scaleDecoderOutputs: false,
    });
  });

  it('takes scale_decoder_outputs (transformers 5) over the older reading of tie_word_embeddings', () => {
    expect(resolveT5Config({ tie_word_embeddings: false, scale_decoder_outputs: true })).toMatchObject({
      tieWordEmbeddings: false,
      scaleDecoderOutputs: true,
    });
    expect(resolveT5Config({ tie_word_embeddings: true, scale_decoder_outputs: false })).toMatchObject({
      tieWordEmbeddings: true,
      scaleDecoderOutputs: false,
    });
  });

  it('derives the feed-forward from feed_forward_proj, with the saved dense_act_fn / is_gated_act winning', () => {
    expect(resolveT5Config({ feed_forward_proj: 'gated-silu' })).toMatchObject({
      denseActFn: 'silu',
      isGatedAct: true,
    });
    expect(resolveT5Config({ feed_forward_proj: 'gelu' })).toMatchObject({
      denseActFn: 'gelu',
      isGatedAct: false,
    });
    expect(resolveT5Config({ feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu' })).toMatchObject({
      denseActFn: 'gelu',
      isGatedAct: true,
    });
  });

  it('accepts HF’s attribute_map aliases and defaults num_decoder_layers and decoder_start_token_id', () => {
    const config = resolveT5Config({
      hidden_size: 16,
      num_attention_heads: 2,
      num_hidden_layers: 3,
      pad_token_id: 5,
    });
    expect(config).toMatchObject({
      dModel: 16,
      numHeads: 2,
      numLayers: 3,
      numDecoderLayers: 3,
      decoderStartTokenId: 5,
    });
  });

  it.each([
    [
      { feed_forward_proj: 'gated-gelu-new' },
      /t5 config: feed_forward_proj must be "<activation>" or "gated-<activation>"/,
    ],
    [{ feed_forward_proj: 'fast-gelu' }, /t5 config: feed_forward_proj must be/],
    [
      { feed_forward_proj: 'gated-swishy' },
      /t5 config: feed_forward_proj \("gated-swishy"\) names "swishy", not a supported activation/,
    ],
    [{ dense_act_fn: 'swishy' }, /t5 config: dense_act_fn "swishy" is not a supported activation/],
    [{ d_kv: 0 }, /t5 config: d_kv must be a positive integer/],
    [{ d_kv: 2 ** 12, num_heads: 64 }, /t5 config: d_kv \(4096\) × num_heads \(64\) must be at most 131072/],
    [{ num_heads: 2.5 }, /t5 config: num_heads must be a positive integer/],
    [
      { relative_attention_num_buckets: 2 },
      /t5 config: relative_attention_num_buckets must be at least 4, got 2/,
    ],
    [
      { relative_attention_num_buckets: 32, relative_attention_max_distance: 16 },
      /t5 config: relative_attention_max_distance \(16\) must exceed relative_attention_num_buckets \/ 2 \(16\)/,
    ],
    [{ layer_norm_epsilon: -1 }, /t5 config: layer_norm_epsilon must be a positive number/],
    [{ tie_word_embeddings: 'yes' }, /t5 config: tie_word_embeddings must be true or false/],
    [{ scale_decoder_outputs: 1 }, /t5 config: scale_decoder_outputs must be true or false/],
    [{ pad_token_id: null }, /t5 config: pad_token_id is required by an encoder-decoder model/],
    [
      { decoder_start_token_id: 40000 },
      /t5 config: decoder_start_token_id must be a token id in \[0, 32128\)/,
    ],
  ])('refuses %o with a ConfigFieldError naming the field', (raw, message) => {
    expect(() => resolveT5Config(raw)).toThrow(ConfigFieldError);
    expect(() => resolveT5Config(raw)).toThrow(message);
  });

  it('leaves the raw config untouched', () => {
    const raw = structuredClone(FLAN_T5_SMALL);
    resolveT5Config(raw);
    expect(raw).toEqual(FLAN_T5_SMALL);
  });
});
