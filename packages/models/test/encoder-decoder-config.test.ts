// Configs of the encoder-decoder families: defaults, validation, and parameter counts of real
// checkpoints built from config.json alone (fixtures/hf-reference/param-counts.json).
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBartConfig } from '../src/bart/bart-config.js';
import { BartForConditionalGeneration } from '../src/bart/bart-model.js';
import { ConfigFieldError } from '../src/config-fields.js';
import { resolveMarianConfig } from '../src/marian/marian-config.js';
import { FIXTURES, readJson } from './encoder-decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const paramCounts = readJson<Record<string, { config: Record<string, unknown>; num_parameters: number }>>(
  `${FIXTURES}param-counts.json`,
);

describe('parameter counts of real checkpoints, from config.json alone', () => {
  it.each([
    ['bart-base', resolveBartConfig],
    ['bart-large', resolveBartConfig],
    ['opus-mt-en-de', resolveMarianConfig],
  ] as const)('%s', async (name, resolve) => {
    const entry = paramCounts[name]!;
    await expectNoLeak(() => {
      const model = new BartForConditionalGeneration(resolve(entry.config));
      expect(model.numParameters()).toBe(entry.num_parameters);
      model.dispose();
    });
  });
});

describe('resolveBartConfig', () => {
  it('applies BartConfig() defaults (the bart-large shape)', () => {
    const config = resolveBartConfig({});
    expect(config).toMatchObject({
      vocabSize: 50265,
      dModel: 1024,
      encoderLayers: 12,
      decoderAttentionHeads: 16,
      encoderFfnDim: 4096,
      positionEncoding: 'learned-offset-2',
      layernormEmbedding: true,
      normalizeBefore: false,
      addFinalLayerNorm: false,
      scaleEmbedding: false,
      padTokenId: 1,
      decoderStartTokenId: 2,
      forcedEosTokenId: 2,
      forcedBosTokenId: null,
    });
  });

  it('turns normalize_before on with a final layer norm, as mBART has them', () => {
    const config = resolveBartConfig({ normalize_before: true });
    expect(config.normalizeBefore).toBe(true);
    expect(config.addFinalLayerNorm).toBe(true);
    expect(resolveBartConfig({ normalize_before: true, add_final_layer_norm: false }).addFinalLayerNorm).toBe(
      false,
    );
  });

  it.each([
    [{ d_model: 30, encoder_attention_heads: 4 }, /encoder_attention_heads \(4\) must divide d_model \(30\)/],
    [{ decoder_layers: 0 }, /decoder_layers must be a positive integer/],
    [{ activation_function: 'gelu_fancy' }, /activation_function "gelu_fancy" is not a supported activation/],
    [{ dropout: 1.5 }, /dropout must be a number in \[0, 1\)/],
    [{ vocab_size: 10, pad_token_id: 12 }, /pad_token_id must be a token id in \[0, 10\)/],
    [{ decoder_start_token_id: -1 }, /decoder_start_token_id must be a token id/],
    [{ normalize_before: 'yes' }, /normalize_before must be true or false/],
  ])('rejects %j with a ConfigFieldError naming the field', (raw, message) => {
    expect(() => resolveBartConfig(raw)).toThrow(ConfigFieldError);
    expect(() => resolveBartConfig(raw)).toThrow(message);
  });

  it('never mutates the raw config', () => {
    const raw = Object.freeze({ d_model: 64, encoder_attention_heads: 4, decoder_attention_heads: 4 });
    expect(resolveBartConfig(raw).dModel).toBe(64);
  });
});

describe('resolveMarianConfig', () => {
  it('applies MarianConfig() defaults: sinusoids, no embedding LayerNorm, OPUS token ids', () => {
    const config = resolveMarianConfig({});
    expect(config).toMatchObject({
      vocabSize: 58101,
      decoderVocabSize: 58101,
      shareEncoderDecoderEmbeddings: true,
      positionEncoding: 'sinusoidal',
      layernormEmbedding: false,
      padTokenId: 58100,
      decoderStartTokenId: 58100,
      eosTokenId: 0,
      forcedEosTokenId: 0,
    });
  });

  it('reads a separate target vocabulary', () => {
    const config = resolveMarianConfig({
      vocab_size: 100,
      decoder_vocab_size: 80,
      share_encoder_decoder_embeddings: false,
      pad_token_id: 79,
      decoder_start_token_id: 79,
    });
    expect(config.decoderVocabSize).toBe(80);
    expect(config.shareEncoderDecoderEmbeddings).toBe(false);
  });

  it('refuses shared embeddings over different vocabularies', () => {
    const raw = { vocab_size: 100, decoder_vocab_size: 80, pad_token_id: 0, decoder_start_token_id: 0 };
    expect(() => resolveMarianConfig(raw)).toThrow(/decoder_vocab_size \(80\) must equal vocab_size \(100\)/);
  });

  it('checks target token ids against the target vocabulary', () => {
    const raw = { vocab_size: 100, decoder_vocab_size: 80, share_encoder_decoder_embeddings: false };
    expect(() => resolveMarianConfig({ ...raw, pad_token_id: 90, decoder_start_token_id: 0 })).toThrow(
      /pad_token_id must be a token id in \[0, 80\)/,
    );
  });
});
