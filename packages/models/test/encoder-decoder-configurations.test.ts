// Encoder-decoder configurations the HF fixtures do not cover (pre-norm layers, other activations,
// unequal encoder/decoder shapes, scaled embeddings, separate vocabularies, untied heads), each
// against the independent float64 forward of ./encoder-decoder-float64.ts.
import * as tf from '@tensorflow/tfjs-core';
import { type Parameter, SeededRandom, useBackend, weightsFromTensors } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BartConfig, resolveBartConfig } from '../src/bart/bart-config.js';
import { BartForConditionalGeneration } from '../src/bart/bart-model.js';
import { loadBartWeights } from '../src/bart/bart-weights.js';
import { resolveMarianConfig } from '../src/marian/marian-config.js';
import { resolveTransformerConfig } from '../src/transformer/transformer-config.js';
import { ids } from './encoder-decoder-fixtures.js';
import { type Float64Weights, referenceLogits } from './encoder-decoder-float64.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Tiny shapes with everything unequal between encoder and decoder. */
const SHAPE = {
  d_model: 8,
  encoder_layers: 2,
  decoder_layers: 3,
  encoder_attention_heads: 2,
  decoder_attention_heads: 4,
  encoder_ffn_dim: 12,
  decoder_ffn_dim: 20,
  max_position_embeddings: 16,
  pad_token_id: 1,
  decoder_start_token_id: 2,
};

const CONFIGURATIONS: [string, BartConfig][] = [
  [
    'bart, pre-norm with final layer norms, gelu_new, scaled embeddings',
    resolveBartConfig({
      ...SHAPE,
      vocab_size: 40,
      activation_function: 'gelu_new',
      normalize_before: true,
      scale_embedding: true,
    }),
  ],
  [
    'bart, post-norm, gelu, no embedding layer norm, untied lm_head',
    resolveBartConfig({ ...SHAPE, vocab_size: 40, normalize_embedding: false, tie_word_embeddings: false }),
  ],
  [
    'marian, separate vocabularies, silu, lm_head tied to the decoder table',
    resolveMarianConfig({
      ...SHAPE,
      vocab_size: 40,
      decoder_vocab_size: 30,
      share_encoder_decoder_embeddings: false,
      activation_function: 'silu',
      scale_embedding: true,
    }),
  ],
  [
    'transformer, interleaved sinusoids, relu, untied output projection',
    resolveTransformerConfig({
      source_vocab_size: 40,
      target_vocab_size: 30,
      d_model: 8,
      num_attention_heads: 2,
      ffn_dim: 12,
      encoder_layers: 2,
      decoder_layers: 3,
      max_position_embeddings: 16,
    }),
  ],
];

/**
 * Seeded random weights for every parameter but the fixed sinusoids, as plain arrays under every
 * name of each (tied) parameter, and as the tensors of a checkpoint under each parameter's first name.
 */
function randomCheckpoint(model: BartForConditionalGeneration, seed: number) {
  const random = new SeededRandom(seed);
  const byParameter = new Map<Parameter, number[]>();
  const arrays = new Map<string, number[]>();
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, parameter] of model.namedParameters()) {
    if (name.endsWith('embed_positions.weight') && model.config.positionEncoding !== 'learned-offset-2')
      continue;
    let values = byParameter.get(parameter);
    if (!values) {
      const isNormWeight = /(layer_norm|layernorm_embedding)\.weight$/.test(name);
      values = Array.from(random.normalArray(parameter.size, 0.4), (x) => (isNormWeight ? 1 + x / 2 : x));
      byParameter.set(parameter, values);
      tensors[name] = tf.tensor(values, [...parameter.shape], 'float32');
    }
    arrays.set(name, values);
  }
  return { weights: arrays as Float64Weights, tensors };
}

async function buildModel(config: BartConfig, seed: number) {
  const model = new BartForConditionalGeneration(config);
  const { weights, tensors } = randomCheckpoint(model, seed);
  await loadBartWeights(model, weightsFromTensors(tensors));
  tf.dispose(Object.values(tensors));
  return { model, weights };
}

const SOURCES = [
  [5, 9, 13, 7, 21, 3],
  [8, 30, 4],
];
const TARGETS = [
  [2, 11, 6, 17, 9],
  [2, 25, 14, 3, 8],
];

describe.each(CONFIGURATIONS)('%s', (_, config) => {
  it('matches the float64 forward on a right-padded batch', async () => {
    const { model, weights } = await buildModel(config, 7);
    await expectNoLeak(() => {
      const sourceLength = Math.max(...SOURCES.map((s) => s.length));
      const inputIds = ids(
        SOURCES.map((s) => [...s, ...Array(sourceLength - s.length).fill(config.padTokenId)]),
      );
      const attentionMask = ids(
        SOURCES.map((s) => Array.from({ length: sourceLength }, (_, i) => (i < s.length ? 1 : 0))),
      );
      const decoderInputIds = ids(TARGETS);
      const { logits, encoderLastHiddenState } = model.forward({ inputIds, attentionMask, decoderInputIds });
      expect(logits.shape).toEqual([2, 5, config.decoderVocabSize]);
      const expected = SOURCES.flatMap((source, row) =>
        referenceLogits(config, weights, source, TARGETS[row]!).flat(),
      );
      assertClose(logits, expected, 2e-5, 'logits');
      tf.dispose([inputIds, attentionMask, decoderInputIds, logits, encoderLastHiddenState]);
    });
    model.dispose();
  });

  it('decodes step by step with a cache as the float64 forward', async () => {
    const { model, weights } = await buildModel(config, 11);
    await expectNoLeak(() => {
      const source = SOURCES[0]!;
      const target = TARGETS[0]!;
      const inputIds = ids([source]);
      const { lastHiddenState } = model.encode(inputIds);
      const cache = model.createCache(1, target.length);
      const expected = referenceLogits(config, weights, source, target);
      target.forEach((token, position) => {
        const stepIds = ids([[token]]);
        const logits = model.decodeLogits({
          decoderInputIds: stepIds,
          encoderHiddenStates: lastHiddenState,
          cache,
        });
        assertClose(logits, expected[position]!, 2e-5, `step ${position}`);
        tf.dispose([stepIds, logits]);
      });
      cache.dispose();
      tf.dispose([inputIds, lastHiddenState]);
    });
    model.dispose();
  });
});
