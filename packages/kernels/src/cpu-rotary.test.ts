import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { rotateOnCaller } from './cpu-rotary.js';
import { KernelArgumentError } from './errors.js';
import { processKernelPool } from './process-kernel-pool.js';

describe('rotateOnCaller', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('refuses x, cos and sin whose shapes or dtypes do not fit, naming the tensor', async () => {
    const pool = await processKernelPool(2);
    await expectNoLeak(async () => {
      const x = tf.zeros([2, 3, 5, 8]);
      const cos = tf.zeros([2, 5, 6]);
      const wrong: [tf.Tensor[], RegExp][] = [
        [[tf.zeros([3, 5, 8]), cos, cos], /x must be \[batch, heads, seq, headDim\], got \[3,5,8\]/],
        [[x, tf.zeros([2, 5, 6], 'int32'), cos], /x, cos and sin must be float32/],
        [[x, tf.zeros([2, 4, 6]), cos], /cos is \[2,4,6\], not \[2, 5, width\] with an even width ≤ 8/],
        [[x, tf.zeros([2, 5, 5]), cos], /cos is \[2,5,5\]/],
        [[x, tf.zeros([2, 5, 10]), cos], /cos is \[2,5,10\]/],
        [[x, cos, tf.zeros([2, 5, 4])], /sin is \[2,5,4\], cos \[2,5,6\]/],
      ];
      for (const [[first, second, third], message] of wrong) {
        expect(() => rotateOnCaller(pool, first!, second!, third!)).toThrow(KernelArgumentError);
        expect(() => rotateOnCaller(pool, first!, second!, third!)).toThrow(message);
        tf.dispose([first!, second!, third!].filter((tensor) => tensor !== x && tensor !== cos));
      }
      const output = rotateOnCaller(pool, x, cos, cos);
      expect(output.shape).toEqual([2, 3, 5, 8]);
      tf.dispose([x, cos, output]);
    });
  });
});
