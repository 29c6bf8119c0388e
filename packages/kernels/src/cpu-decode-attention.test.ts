import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DecodeAttentionKernel } from './cpu-decode-attention.js';
import { KernelArgumentError } from './errors.js';
import { HeapMirror } from './heap-mirror.js';
import { processKernelPool } from './process-kernel-pool.js';

describe('DecodeAttentionKernel.attend', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('refuses tensors whose shapes or dtypes do not fit, naming the tensor, before copying anything', async () => {
    const pool = await processKernelPool(2);
    const kernel = new DecodeAttentionKernel(pool);
    await expectNoLeak(async () => {
      const query = tf.zeros([2, 4, 1, 8]);
      const key = tf.zeros([2, 2, 3, 8]);
      const call = { query, keys: [key], values: [key], mask: null, scale: 1, softcap: null };
      const wrong: [Partial<typeof call> & Record<string, unknown>, RegExp][] = [
        [{ query: tf.zeros([2, 4, 2, 8]) }, /query must be \[batch, heads, 1, headDim\], got \[2,4,2,8\]/],
        [{ query: tf.zeros([2, 4, 1, 8], 'int32') }, /must be float32/],
        [{ values: [] }, /as many value blocks as key blocks, at least one; got 1 and 0/],
        [
          { keys: [tf.zeros([2, 3, 3, 8])], values: [tf.zeros([2, 3, 3, 8])] },
          /keys' 3 heads do not divide the query's 4/,
        ],
        [
          { keys: [key, tf.zeros([2, 2, 3, 7])], values: [key, key] },
          /keys\[1\] is \[2,2,3,7\], not \[2, 2, length, 8\]/,
        ],
        [{ values: [tf.zeros([2, 2, 4, 8])] }, /values\[0\] is \[2,2,4,8\], keys\[0\] \[2,2,3,8\]/],
        [{ mask: tf.zeros([2, 1, 1, 4]) }, /mask is \[2,1,1,4\], not \[2 or 1, 1, 1, 3\]/],
      ];
      for (const [change, message] of wrong) {
        expect(() => kernel.attend({ ...call, ...change })).toThrow(KernelArgumentError);
        expect(() => kernel.attend({ ...call, ...change })).toThrow(message);
        tf.dispose((Object.values(change).flat() as tf.Tensor[]).filter((tensor) => tensor !== key));
      }
      expect(kernel.mirroredBytes()).toBe(0);
      const output = kernel.attend(call)!;
      expect(output.shape).toEqual([2, 4, 1, 8]);
      tf.dispose([query, key, output]);
    });
    kernel.release();
  });

  it('sweeps the copies of disposed blocks once per about as many new copies as it holds, not on every call', async () => {
    const pool = await processKernelPool(2);
    const kernel = new DecodeAttentionKernel(pool);
    const sweeps = vi.spyOn(HeapMirror.prototype, 'sweep');
    await expectNoLeak(async () => {
      // 8 layers of 3 fixed blocks and a last block that a decode step replaces, as a dynamic cache does.
      const block = () => tf.ones([1, 2, 4, 8]);
      const layers = Array.from({ length: 8 }, () => [block(), block(), block(), block()]);
      const query = tf.ones([1, 2, 1, 8]);
      let calls = 0;
      for (let step = 0; step < 10; step++) {
        for (const blocks of layers) {
          blocks.pop()!.dispose();
          blocks.push(block());
          kernel
            .attend({ query, keys: blocks, values: blocks, mask: null, scale: 1, softcap: null })!
            .dispose();
          calls++;
        }
      }
      expect(sweeps.mock.calls.length).toBeLessThanOrEqual(calls / 4);
      const live = 8 * 4 * 4 * (2 * 4 * 8);
      expect(kernel.mirroredBytes()).toBe(live);
      tf.dispose([query, ...layers.flat()]);
    });
    sweeps.mockRestore();
    expect(kernel.mirroredBytes()).toBe(0);
    kernel.release();
  });
});
