// Bad input to the encoder-decoder models gets a typed error that says what and where; checkpoints
// load under the names Hugging Face accepts and are refused, by name, when they do not fit.

import * as tf from '@tensorflow/tfjs-core';
import { DynamicCache } from '@tsformer/cache';
import { useBackend, WeightLoadingError, weightsFromTensors } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak, randomWeights } from '@tsformer/core-tensor/testing';
import { PositionOutOfRangeError, sinusoidTable } from '@tsformer/layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBartConfig } from '../src/bart/bart-config.js';
import { BartForConditionalGeneration } from '../src/bart/bart-model.js';
import { loadBartWeights } from '../src/bart/bart-weights.js';
import { ModelInputError } from '../src/errors.js';
import { resolveMarianConfig } from '../src/marian/marian-config.js';
import { ids } from './encoder-decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const TINY = {
  vocab_size: 20,
  d_model: 8,
  encoder_layers: 1,
  decoder_layers: 2,
  encoder_attention_heads: 2,
  decoder_attention_heads: 2,
  encoder_ffn_dim: 8,
  decoder_ffn_dim: 8,
  max_position_embeddings: 6,
  pad_token_id: 1,
  decoder_start_token_id: 2,
};

describe('bad input to a BART-style model', () => {
  const model = new BartForConditionalGeneration(resolveBartConfig(TINY));
  beforeAll(() => randomWeights(model, 1));
  afterAll(() => model.dispose());

  /** Runs `fn` with a [1, 3] source encoding and disposes everything, leaks checked. */
  async function withEncoding(fn: (states: tf.Tensor3D) => void): Promise<void> {
    await expectNoLeak(() => {
      const source = ids([[3, 4, 5]]);
      const { lastHiddenState } = model.encode(source);
      try {
        fn(lastHiddenState);
      } finally {
        tf.dispose([source, lastHiddenState]);
      }
    });
  }

  it('refuses float ids and empty sequences', async () => {
    await expectNoLeak(() => {
      const floats = tf.tensor2d([[3, 4]]);
      expect(() => model.encode(floats)).toThrow(ModelInputError);
      expect(() => model.encode(floats)).toThrow(
        /inputIds must be a \[batch, tokens\] int32 tensor.*float32 \[1,2\]/,
      );
      floats.dispose();
    });
    await withEncoding((states) => {
      const empty = tf.zeros([1, 0], 'int32') as tf.Tensor2D;
      expect(() => model.decodeLogits({ decoderInputIds: empty, encoderHiddenStates: states })).toThrow(
        /decoderInputIds must be a \[batch, tokens\] int32 tensor with at least one token/,
      );
      empty.dispose();
    });
  });

  it('refuses a padding mask that does not match the source', async () => {
    await expectNoLeak(() => {
      const source = ids([[3, 4, 5]]);
      const mask = ids([[1, 1]]);
      expect(() => model.encode(source, mask)).toThrow(
        /attentionMask must be \[batch=1, source tokens=3\], got \[1,2\]/,
      );
      tf.dispose([source, mask]);
    });
    await withEncoding((states) => {
      const target = ids([[2]]);
      const mask = ids([[1, 1, 1, 1]]);
      expect(() =>
        model.decodeLogits({
          decoderInputIds: target,
          encoderHiddenStates: states,
          encoderAttentionMask: mask,
        }),
      ).toThrow(/encoderAttentionMask must be \[batch=1, source tokens=3\], got \[1,4\]/);
      tf.dispose([target, mask]);
    });
  });

  it('refuses encoder states of another batch or width', async () => {
    await withEncoding((states) => {
      const twoRows = ids([[2], [2]]);
      expect(() => model.decodeLogits({ decoderInputIds: twoRows, encoderHiddenStates: states })).toThrow(
        /encoderHiddenStates must be \[batch=2, source tokens, dModel=8\], got \[1,3,8\]/,
      );
      twoRows.dispose();
    });
  });

  it('refuses a cache it did not make, or one of another depth', async () => {
    await withEncoding((states) => {
      const target = ids([[2]]);
      const decoderOnly = new DynamicCache(2);
      expect(() =>
        model.decodeLogits({ decoderInputIds: target, encoderHiddenStates: states, cache: decoderOnly }),
      ).toThrow(/needs the EncoderDecoderCache that model.createCache\(...\) makes, got a DynamicCache/);
      const shallow = new BartForConditionalGeneration(
        resolveBartConfig({ ...TINY, decoder_layers: 1 }),
      ).createCache(1, 4);
      expect(() =>
        model.decodeLogits({ decoderInputIds: target, encoderHiddenStates: states, cache: shallow }),
      ).toThrow(/the cache has 1 layers but the decoder has 2/);
      target.dispose();
    });
  });

  it('refuses logitsToKeep outside [1, new target tokens], as decoder-only models do', async () => {
    await withEncoding((states) => {
      const target = ids([[2, 3]]);
      for (const logitsToKeep of [0, 3, 1.5]) {
        expect(() =>
          model.decodeLogits({ decoderInputIds: target, encoderHiddenStates: states, logitsToKeep }),
        ).toThrow(`logitsToKeep must be an integer in [1, 2], got ${logitsToKeep}`);
      }
      target.dispose();
    });
  });

  it('tells generate its learned position table ends at max_position_embeddings', () => {
    expect(model.positionLimit).toEqual({ maxPositions: 6, kind: 'learned' });
    const marian = new BartForConditionalGeneration(
      resolveMarianConfig({ ...TINY, max_position_embeddings: 9 }),
    );
    expect(marian.positionLimit).toEqual({ maxPositions: 9, kind: 'learned' });
    marian.dispose();
  });

  it('refuses sources and targets longer than the position table', async () => {
    await expectNoLeak(() => {
      const long = ids([[3, 4, 5, 6, 7, 8, 9]]);
      expect(() => model.encode(long)).toThrow(PositionOutOfRangeError);
      long.dispose();
    });
    await withEncoding((states) => {
      const cache = model.createCache(1, 8);
      const prefix = ids([[2, 3, 4, 5, 6, 7]]);
      tf.dispose(model.decodeLogits({ decoderInputIds: prefix, encoderHiddenStates: states, cache }));
      const next = ids([[8]]);
      expect(() => model.decodeLogits({ decoderInputIds: next, encoderHiddenStates: states, cache })).toThrow(
        /position 6 is outside/,
      );
      cache.dispose();
      tf.dispose([prefix, next]);
    });
  });
});

describe('loadBartWeights', () => {
  /** A checkpoint with every parameter of `model` under its first name, filled with `randomWeights`. */
  function checkpointOf(model: BartForConditionalGeneration): Record<string, tf.Tensor> {
    randomWeights(model, 5);
    const tensors: Record<string, tf.Tensor> = {};
    const seen = new Set();
    for (const [name, parameter] of model.namedParameters()) {
      if (seen.has(parameter)) continue;
      seen.add(parameter);
      const stored = parameter.tensor;
      tensors[name] = parameter.transposed ? tf.transpose(stored) : tf.clone(stored);
    }
    return tensors;
  }

  it('names every missing, unexpected and mis-shaped tensor', async () => {
    const model = new BartForConditionalGeneration(resolveBartConfig(TINY));
    const tensors = checkpointOf(model);
    const { 'model.shared.weight': shared, ...rest } = tensors;
    const misShaped = tf.zeros([3, 8]);
    const extra = tf.zeros([2]);
    const source = weightsFromTensors({
      ...rest,
      'model.encoder.layers.0.fc1.bias': misShaped,
      'model.decoder.layers.9.fc1.bias': extra,
    });
    const failure = loadBartWeights(model, source);
    await expect(failure).rejects.toThrow(WeightLoadingError);
    await expect(loadBartWeights(model, source)).rejects.toThrow(
      /missing 1: model\.shared\.weight.*unexpected 1: model\.decoder\.layers\.9\.fc1\.bias.*model\.encoder\.layers\.0\.fc1\.bias is \[3,8\]/,
    );
    tf.dispose([...Object.values(tensors), misShaped, extra, shared!]);
    model.dispose();
  });

  it('loads a base-model checkpoint (no `model.` prefix) and a tied table under any of its names', async () => {
    const reference = new BartForConditionalGeneration(resolveBartConfig(TINY));
    const tensors = checkpointOf(reference);
    const renamed: Record<string, tf.Tensor> = {};
    for (const [name, tensor] of Object.entries(tensors)) {
      const base = name.replace(/^model\./, '');
      renamed[base === 'shared.weight' ? 'decoder.embed_tokens.weight' : base] = tensor;
    }
    const model = new BartForConditionalGeneration(resolveBartConfig(TINY));
    const report = await loadBartWeights(model, weightsFromTensors(renamed));
    expect(report.missing).toEqual([]);
    assertClose(model.lmHead.weight.tensor, reference.model.shared!.weight.tensor, 0, 'tied lm_head');
    assertClose(
      model.model.encoder.layers.at(0).fc1.weight.tensor,
      reference.model.encoder.layers.at(0).fc1.weight.tensor,
      0,
      'fc1',
    );
    tf.dispose(Object.values(tensors));
    model.dispose();
    reference.dispose();
  });

  it('computes Marian’s sinusoids when the checkpoint lacks them and loads them when it stores them', async () => {
    const config = resolveMarianConfig({ ...TINY, decoder_start_token_id: 1 });
    const model = new BartForConditionalGeneration(config);
    const tensors = checkpointOf(model);
    const {
      'model.encoder.embed_positions.weight': encoderTable,
      'model.decoder.embed_positions.weight': decoderTable,
      ...rest
    } = tensors;
    const fresh = new BartForConditionalGeneration(config);
    await loadBartWeights(fresh, weightsFromTensors(rest));
    assertClose(
      fresh.model.decoder.embedPositions.weight.tensor,
      sinusoidTable(6, 8),
      1e-7,
      'computed sinusoids',
    );

    const stored = tf.fill([6, 8], 0.25);
    await loadBartWeights(
      fresh,
      weightsFromTensors({ ...rest, 'model.encoder.embed_positions.weight': stored }),
    );
    assertClose(
      fresh.model.encoder.embedPositions.weight.tensor,
      new Array(48).fill(0.25),
      0,
      'stored table',
    );
    tf.dispose([...Object.values(tensors), stored, encoderTable!, decoderTable!]);
    model.dispose();
    fresh.dispose();
  });
});
