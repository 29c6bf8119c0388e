import * as tf from '@tensorflow/tfjs-core';
import { DynamicCache } from '@tsformer/cache';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { randomCheckpoint } from '@tsformer/models/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelInputError } from './errors.js';
import { resolveLlamaConfig } from './llama/llama-config.js';
import { LlamaForCausalLM } from './llama/llama-model.js';

let model: LlamaForCausalLM;

beforeAll(async () => {
  await useBackend('wasm');
  model = new LlamaForCausalLM(
    resolveLlamaConfig({
      vocab_size: 20,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      max_position_embeddings: 32,
    }),
  );
  randomCheckpoint(model, 1);
  tf.dispose(model.forward(tf.tensor2d([[1]], undefined, 'int32')).logits);
});

afterAll(() => {
  model.dispose();
});

describe('forward inputs that do not fit get a ModelInputError saying why', () => {
  it.each([
    [
      'float ids',
      () => ({ inputIds: tf.tensor2d([[1, 2]]) }),
      /inputIds must be a \[batch, tokens\] int32 tensor/,
    ],
    [
      'a mask of the wrong length',
      () => ({
        inputIds: tf.tensor2d([[1, 2]], undefined, 'int32'),
        attentionMask: tf.ones([1, 3], 'int32'),
      }),
      /attentionMask must be \[batch=1, past \+ new tokens=2\], got \[1,3\]/,
    ],
    [
      'positions of another shape',
      () => ({
        inputIds: tf.tensor2d([[1, 2]], undefined, 'int32'),
        positionIds: tf.tensor2d([[0]], undefined, 'int32'),
      }),
      /positionIds must be an int32 tensor shaped like inputIds \[1,2\]/,
    ],
    [
      'positions without their largest value',
      () => ({
        inputIds: tf.tensor2d([[1, 2]], undefined, 'int32'),
        positionIds: tf.tensor2d([[0, 1]], undefined, 'int32'),
      }),
      /positionIds need maxPosition, their largest value/,
    ],
    [
      'a cache of another depth',
      () => ({ inputIds: tf.tensor2d([[1]], undefined, 'int32'), cache: new DynamicCache(3) }),
      /the cache has 3 layers but the model has 2/,
    ],
    [
      'logitsToKeep beyond the tokens',
      () => ({ inputIds: tf.tensor2d([[1, 2]], undefined, 'int32'), logitsToKeep: 3 }),
      /logitsToKeep must be an integer in \[1, 2\], got 3/,
    ],
  ])('%s', async (_label, makeInputs, message) => {
    await expectNoLeak(() => {
      const { inputIds, cache, ...options } = makeInputs() as {
        inputIds: tf.Tensor2D;
        cache?: DynamicCache;
        attentionMask?: tf.Tensor2D;
        positionIds?: tf.Tensor2D;
        logitsToKeep?: number;
      };
      expect(() => model.forward(inputIds, { ...options, cache })).toThrow(ModelInputError);
      expect(() => model.forward(inputIds, { ...options, cache })).toThrow(message);
      tf.dispose([inputIds, options.attentionMask, options.positionIds].filter((t) => t !== undefined));
      cache?.dispose();
    });
  });

  it('asks for the model’s own cache through forwardLogits', async () => {
    await expectNoLeak(() => {
      const inputIds = tf.tensor2d([[1]], undefined, 'int32');
      const notLayered = { getSeqLength: () => 0, crop() {}, reorder() {}, bytes: () => 0, dispose() {} };
      expect(() => model.forwardLogits({ inputIds, cache: notLayered })).toThrow(
        /make one with model.createCache/,
      );
      inputIds.dispose();
    });
  });
});

describe('positionLimit', () => {
  it('is extrapolating for rotary positions (the Llama family)', () => {
    expect(model.positionLimit).toEqual({ maxPositions: 32, kind: 'extrapolating' });
  });
});

describe('training mode', () => {
  it('applies dropout only in training mode', async () => {
    await expectNoLeak(() => {
      const dropped = new LlamaForCausalLM(
        resolveLlamaConfig({
          vocab_size: 20,
          hidden_size: 16,
          intermediate_size: 24,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          attention_dropout: 0.5,
        }),
      );
      randomCheckpoint(dropped, 2);
      const input = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
      const [a, b] = [dropped.forward(input).logits, dropped.forward(input).logits];
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
      dropped.train();
      const c = dropped.forward(input).logits;
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0])).toBeGreaterThan(0);
      tf.dispose([input, a, b, c]);
      dropped.dispose();
    });
  });
});
