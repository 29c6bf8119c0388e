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

describe('Parameter.derived', () => {
  it('makes a layout once, frees it when the value is written, and when the parameter is disposed', async () => {
    await expectNoLeak(() => {
      const parameter = new Parameter([2, 2], { transposed: true });
      parameter.assign(tf.tensor2d([1, 2, 3, 4], [2, 2]));
      const made: number[][] = [];
      const freed: number[][] = [];
      const make = (source: Parameter) => {
        const values = Array.from(source.tensor.dataSync());
        made.push(values);
        return { values, dispose: () => freed.push(values) };
      };
      const first = parameter.derived('test:copy', make);
      expect(parameter.derived('test:copy', make)).toBe(first);
      expect(made).toEqual([[1, 3, 2, 4]]);

      const next = tf.tensor2d([5, 6, 7, 8], [2, 2]);
      parameter.update(next); // stored layout
      next.dispose();
      expect(freed).toEqual([[1, 3, 2, 4]]);
      expect(parameter.derived('test:copy', make).values).toEqual([5, 6, 7, 8]);

      parameter.dispose();
      expect(freed).toEqual([
        [1, 3, 2, 4],
        [5, 6, 7, 8],
      ]);
    });
  });

  it('keeps one layout per key', () => {
    const parameter = new Parameter([1]);
    parameter.assign(tf.tensor1d([1]));
    const a = parameter.derived('a', () => ({ dispose() {} }));
    const b = parameter.derived('b', () => ({ dispose() {} }));
    expect(a).not.toBe(b);
    parameter.dispose();
  });
});

describe('Parameter.assignLayout', () => {
  it('holds the value only as the layout, restores a tensor from it once when read, and drops it on the next write', async () => {
    await expectNoLeak(async () => {
      const parameter = new Parameter([2, 3], { transposed: true });
      let restored = 0;
      let disposed = 0;
      const layout = {
        restore: () => {
          restored += 1;
          return tf.tensor2d([1, 4, 2, 5, 3, 6], [3, 2]); // stored [3, 2]
        },
        dispose: () => {
          disposed += 1;
        },
      };
      parameter.assignLayout('test:packed', layout);
      expect([parameter.isSet, parameter.hasTensor, parameter.version]).toEqual([true, false, 1]);
      expect(parameter.derived('test:packed', () => expect.fail('made again'))).toBe(layout);
      expect(restored).toBe(0);

      const checkpoint = parameter.checkpointValue(); // reads `tensor`: restored and kept
      expect(Array.from(await checkpoint.data())).toEqual([1, 2, 3, 4, 5, 6]);
      checkpoint.dispose();
      expect(parameter.tensor).toBe(parameter.tensor);
      expect([restored, parameter.hasTensor]).toEqual([1, true]);

      parameter.assign(tf.tensor2d([0, 0, 0, 0, 0, 0], [2, 3]));
      expect([disposed, parameter.version]).toEqual([1, 2]);
      expect(parameter.derived('test:packed', () => ({ dispose() {} }))).not.toBe(layout);
      parameter.dispose();
    });
  });

  it('restores the tensor a variable needs for training', async () => {
    await expectNoLeak(async () => {
      const parameter = new Parameter([2]);
      parameter.assignLayout('test:packed', { restore: () => tf.tensor1d([7, 8]), dispose() {} });
      const variable = parameter.makeTrainable();
      expect(Array.from(await variable.data())).toEqual([7, 8]);
      parameter.dispose();
    });
  });
});
