// The classic Transformer family: its config, its parameters, and train/eval (dropout) behaviour.
// Its eval-mode forward is checked against the float64 reference in encoder-decoder-configurations.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak, randomWeights } from '@tsformer/core-tensor/testing';
import { SinusoidalPositionalEmbedding } from '@tsformer/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { BartForConditionalGeneration } from '../src/bart/bart-model.js';
import { ConfigFieldError } from '../src/config-fields.js';
import { resolveTransformerConfig } from '../src/transformer/transformer-config.js';
import { ids } from './encoder-decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const TINY = {
  source_vocab_size: 40,
  target_vocab_size: 30,
  d_model: 8,
  num_attention_heads: 2,
  ffn_dim: 12,
  encoder_layers: 2,
  decoder_layers: 3,
  max_position_embeddings: 16,
  dropout: 0.3,
};

/** A tiny model with random weights and its sinusoids restored. */
function tinyModel(raw: Record<string, unknown> = TINY): BartForConditionalGeneration {
  const model = new BartForConditionalGeneration(resolveTransformerConfig(raw));
  randomWeights(model, 3, 0.5);
  for (const stack of [model.model.encoder, model.model.decoder]) {
    (stack.embedPositions as SinusoidalPositionalEmbedding).resetTable();
  }
  return model;
}

function logitsOf(model: BartForConditionalGeneration): Float32Array {
  return tf.tidy(() => {
    const inputIds = ids([[5, 9, 13, 7]]);
    const decoderInputIds = ids([[0, 11, 6]]);
    const { logits } = model.forward({ inputIds, decoderInputIds });
    return logits.dataSync() as Float32Array;
  });
}

describe('resolveTransformerConfig', () => {
  it('uses the paper’s base model and choices', () => {
    const config = resolveTransformerConfig({ source_vocab_size: 100, target_vocab_size: 90 });
    expect(config).toMatchObject({
      modelType: 'transformer',
      dModel: 512,
      encoderAttentionHeads: 8,
      decoderAttentionHeads: 8,
      encoderFfnDim: 2048,
      encoderLayers: 6,
      decoderLayers: 6,
      dropout: 0.1,
      activationFunction: 'relu',
      positionEncoding: 'sinusoidal-interleaved',
      scaleEmbedding: true,
      normalizeBefore: false,
      layernormEmbedding: false,
      shareEncoderDecoderEmbeddings: false,
      tieWordEmbeddings: false,
      finalLogitsBias: false,
      vocabSize: 100,
      decoderVocabSize: 90,
      padTokenId: 0,
      decoderStartTokenId: 0,
    });
  });

  it.each([
    [{ target_vocab_size: 9 }, /source_vocab_size is required/],
    [{ source_vocab_size: 9 }, /target_vocab_size is required/],
    [{ ...TINY, num_attention_heads: 3 }, /num_attention_heads \(3\) must divide d_model \(8\)/],
    [{ ...TINY, dropout: -0.1 }, /dropout must be a number in \[0, 1\)/],
    [{ ...TINY, decoder_start_token_id: 30 }, /decoder_start_token_id must be a token id in \[0, 30\)/],
  ])('rejects %j with a ConfigFieldError naming the field', (raw, message) => {
    expect(() => resolveTransformerConfig(raw)).toThrow(ConfigFieldError);
    expect(() => resolveTransformerConfig(raw)).toThrow(message);
  });
});

describe('the Transformer model', () => {
  it('has separate source and target tables, fixed positions and an output projection', async () => {
    await expectNoLeak(() => {
      const model = new BartForConditionalGeneration(resolveTransformerConfig(TINY));
      const names = model.namedParameters().map(([name]) => name);
      expect(names).toContain('model.encoder.embed_tokens.weight');
      expect(names).toContain('model.decoder.embed_tokens.weight');
      expect(names).toContain('lm_head.weight');
      expect(names).not.toContain('model.shared.weight');
      expect(names).not.toContain('final_logits_bias');
      expect(model.model.encoder.embedPositions).toBeInstanceOf(SinusoidalPositionalEmbedding);
      const d = 8;
      const attention = 4 * (d * d + d);
      const norm = 2 * d;
      const feedForward = d * 12 + 12 + 12 * d + d;
      const encoderLayer = attention + norm + feedForward + norm;
      const decoderLayer = 2 * (attention + norm) + feedForward + norm;
      const tables = 40 * d + 30 * d + 2 * 16 * d + 30 * d;
      expect(model.numParameters()).toBe(tables + 2 * encoderLayer + 3 * decoderLayer);
      model.dispose();
    });
  });

  it('applies dropout in training mode only', async () => {
    await expectNoLeak(() => {
      const model = tinyModel();
      expect(model.training).toBe(false);
      const evaluated = logitsOf(model);
      expect(logitsOf(model)).toEqual(evaluated);

      model.train();
      expect(model.model.decoder.layers.at(2).dropout.training).toBe(true);
      const first = logitsOf(model);
      const second = logitsOf(model);
      expect(first.every(Number.isFinite)).toBe(true);
      expect(first).not.toEqual(evaluated);
      expect(second).not.toEqual(first);

      model.eval();
      expect(logitsOf(model)).toEqual(evaluated);
      model.dispose();
    });
  });

  it('is deterministic in training mode when every dropout rate is 0', async () => {
    await expectNoLeak(() => {
      const model = tinyModel({ ...TINY, dropout: 0 });
      const evaluated = logitsOf(model);
      model.train();
      expect(logitsOf(model)).toEqual(evaluated);
      model.dispose();
    });
  });
});
