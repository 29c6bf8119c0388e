import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { TsformerError } from './errors.js';
import { Parameter } from './parameter.js';
import { expectNoLeak } from './testing/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Parameter', () => {
  it('keeps what it is given and frees the previous value', async () => {
    await expectNoLeak(() => {
      const parameter = new Parameter([2, 3]);
      parameter.assign(tf.ones([2, 3]));
      parameter.assign(tf.zeros([2, 3]));
      expect(Array.from(parameter.tensor.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      parameter.dispose();
    });
  });

  it('stores a transposed parameter transposed, shape-checked against the checkpoint shape', async () => {
    await expectNoLeak(() => {
      const parameter = new Parameter([2, 3], { transposed: true });
      expect(parameter.storedShape).toEqual([3, 2]);
      parameter.assign(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]));
      expect(parameter.tensor.arraySync()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      const wrong = tf.ones([3, 2]);
      expect(() => parameter.assign(wrong)).toThrow(/cannot assign a \[3,2\]/);
      wrong.dispose();
      parameter.dispose();
    });
  });

  it('rejects bad shapes and a transposed parameter that is not 2-D', () => {
    expect(() => new Parameter([2, -1])).toThrow(TsformerError);
    expect(() => new Parameter([4], { transposed: true })).toThrow(/only a 2-D/);
    expect(() => new Parameter([3]).tensor).toThrow(/never loaded/);
  });
});

describe('Parameter in training', () => {
  it('becomes a variable of its stored layout, updated in place with a version per write', async () => {
    await expectNoLeak(() => {
      const parameter = new Parameter([2, 3], { transposed: true });
      parameter.assign(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]));
      expect(parameter.version).toBe(1);
      const variable = parameter.makeTrainable();
      expect(parameter.makeTrainable()).toBe(variable);
      expect(parameter.tensor).toBe(variable);
      expect(variable.shape).toEqual([3, 2]);
      const next = tf.mul(variable, 2);
      parameter.update(next);
      next.dispose();
      expect(parameter.version).toBe(2);
      expect(parameter.tensor).toBe(variable);
      const checkpoint = parameter.checkpointValue();
      expect(checkpoint.arraySync()).toEqual([
        [2, 4, 6],
        [8, 10, 12],
      ]);
      const wrong = tf.ones([2, 3]);
      expect(() => parameter.update(wrong)).toThrow(/stored as \[3,2\]/);
      tf.dispose([checkpoint, wrong]);
      parameter.dispose();
    });
  });

  it('refuses a variable before it is loaded', () => {
    const parameter = new Parameter([2]);
    expect(() => parameter.variable).toThrow(/never loaded/);
    parameter.assign(tf.ones([2]));
    expect(() => parameter.variable).toThrow(/not trainable/);
    parameter.dispose();
  });
});
