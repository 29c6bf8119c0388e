import * as tf from '@tensorflow/tfjs-core';
import { useBackend, weightsFromTensors } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { addRow, matMul, randomValues, transpose } from '../test/float64.js';
import { Conv1D } from './conv1d.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Linear', () => {
  it('computes x Wᵀ + b with the weight stored [out, in]', async () => {
    await expectNoLeak(async () => {
      const [inFeatures, outFeatures] = [5, 3];
      const weight = randomValues(outFeatures * inFeatures, 1);
      const bias = randomValues(outFeatures, 2);
      const input = randomValues(2 * 4 * inFeatures, 3);
      const layer = new Linear(inFeatures, outFeatures);
      const tensors = {
        weight: tf.tensor2d(weight, [outFeatures, inFeatures]),
        bias: tf.tensor1d(bias),
      };
      await layer.loadWeights(weightsFromTensors(tensors));
      const x = tf.tensor3d(input, [2, 4, inFeatures]);
      const y = layer.forward(x);
      expect(y.shape).toEqual([2, 4, outFeatures]);
      const expected = addRow(
        matMul(input, inFeatures, transpose(weight, outFeatures, inFeatures), outFeatures),
        bias,
      );
      assertClose(y, expected, 1e-5, 'linear');
      tf.dispose([x, y, tensors.weight, tensors.bias]);
      layer.dispose();
    });
  });

  it('has no bias parameter when bias is false', () => {
    const layer = new Linear(4, 2, { bias: false });
    expect(layer.namedParameters().map(([name]) => name)).toEqual(['weight']);
    expect(layer.numParameters()).toBe(8);
  });
});

describe('Linear with a shared weight', () => {
  it('reads a tied [out, in] table as it is stored (a tied lm_head over the token embeddings)', async () => {
    await expectNoLeak(() => {
      const table = randomValues(7 * 3, 8);
      const embedding = new Embedding(7, 3);
      embedding.weight.assign(tf.tensor2d(table, [7, 3]));
      const head = new Linear(3, 7, { bias: false, sharedWeight: embedding.weight });
      expect(head.weight).toBe(embedding.weight);
      const input = randomValues(2 * 3, 9);
      const x = tf.tensor2d(input, [2, 3]);
      const y = head.forward(x);
      assertClose(y, matMul(input, 3, transpose(table, 7, 3), 7), 1e-5, 'tied head');
      tf.dispose([x, y]);
      embedding.dispose();
    });
  });

  it('refuses a shared weight of the wrong shape', () => {
    const embedding = new Embedding(7, 3);
    expect(() => new Linear(7, 3, { sharedWeight: embedding.weight })).toThrow(
      /cannot share a \[7,3\] weight/,
    );
  });
});

describe('Conv1D', () => {
  it('computes x W + b with the weight stored [in, out] (GPT-2 layout)', async () => {
    await expectNoLeak(async () => {
      const [inFeatures, outFeatures] = [4, 6];
      const weight = randomValues(inFeatures * outFeatures, 4);
      const bias = randomValues(outFeatures, 5);
      const input = randomValues(3 * inFeatures, 6);
      const layer = new Conv1D(inFeatures, outFeatures);
      expect(layer.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
        ['weight', [inFeatures, outFeatures]],
        ['bias', [outFeatures]],
      ]);
      const tensors = { weight: tf.tensor2d(weight, [inFeatures, outFeatures]), bias: tf.tensor1d(bias) };
      await layer.loadWeights(weightsFromTensors(tensors));
      const x = tf.tensor2d(input, [3, inFeatures]);
      const y = layer.forward(x);
      assertClose(y, addRow(matMul(input, inFeatures, weight, outFeatures), bias), 1e-5, 'conv1d');
      tf.dispose([x, y, tensors.weight, tensors.bias]);
      layer.dispose();
    });
  });
});
