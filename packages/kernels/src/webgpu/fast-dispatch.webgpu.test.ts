import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { KernelArgumentError } from '../errors.js';
import { dispatchKernel, fastDispatchStats } from './fast-dispatch.js';
import type { WgslKernel } from './wgsl-kernel.js';

beforeAll(async () => {
  await useBackend('webgpu');
});

/** `sum[i] = a[i] + scale · b[i]`, `difference[i] = a[i] - b[i]`: two outputs, a float uniform. */
const AXPY: WgslKernel = {
  key: 'test.axpy',
  outputs: [
    { name: 'sum', type: 'f32' },
    { name: 'difference', type: 'f32' },
  ],
  inputs: [
    { name: 'a', type: 'f32' },
    { name: 'b', type: 'f32' },
  ],
  uniforms: [
    { name: 'size', type: 'i32' },
    { name: 'scale', type: 'f32' },
  ],
  workgroupSize: 64,
  body: `
    let i = globalIndex;
    if (i >= uniforms.size) { return; }
    sum[i] = a[i] + uniforms.scale * b[i];
    difference[i] = a[i] - b[i];
  `,
};

/** `counts[i] += 1` in place. */
const INCREMENT: WgslKernel = {
  key: 'test.increment',
  outputs: [{ name: 'counts', type: 'f32' }],
  inputs: [],
  uniforms: [{ name: 'size', type: 'i32' }],
  workgroupSize: 64,
  body: 'if (globalIndex < uniforms.size) { counts[globalIndex] = counts[globalIndex] + 1.0; }',
};

function axpy(a: tf.Tensor, b: tf.Tensor, scale: number): tf.Tensor[] {
  const output = { shape: a.shape, dtype: 'float32' as const };
  return dispatchKernel(AXPY, [a, b], [output, output], [a.size, scale], Math.ceil(a.size / 64));
}

describe('dispatchKernel (the fast path on webgpu)', () => {
  it('computes two outputs with per-dispatch uniforms, ordered with tfjs ops before and after, without leaks', async () => {
    await expectNoLeak(async () => {
      const results = tf.tidy(() => {
        const a = tf.add(tf.range(0, 130, 1, 'float32'), 1); // a tfjs op feeds the kernel
        const b = tf.ones([130]);
        const outputs = [1, 2, 3].map((scale) => axpy(a, b, scale)); // three uniform value sets in one encoder
        return outputs.map(([sum, difference]) => tf.mul(tf.sub(sum!, difference!), 1)); // tfjs ops read them
      });
      for (const [index, result] of results.entries()) {
        const scale = index + 1;
        expect(Array.from(await result.data())).toEqual(Array.from({ length: 130 }, () => scale + 1));
      }
      tf.dispose(results);
    });
  });

  it('reuses bind groups for the same buffers and uniform slots for the same values; pipelines once', async () => {
    await expectNoLeak(async () => {
      const a = tf.fill([300], 2);
      const b = tf.fill([300], 3);
      const before = fastDispatchStats();
      for (let i = 0; i < 4; i++) {
        const [sum, difference] = axpy(a, b, 0.5);
        expect(Array.from(await sum!.data()).every((v) => v === 3.5)).toBe(true);
        tf.dispose([sum!, difference!]); // the buffer manager hands the same buffers back next time
      }
      const after = fastDispatchStats();
      expect(after.dispatches - before.dispatches).toBe(4);
      expect(after.pipelinesCreated - before.pipelinesCreated).toBeLessThanOrEqual(1);
      expect(after.bindGroupHits - before.bindGroupHits).toBeGreaterThanOrEqual(2);
      expect(after.bindGroupsCreated - before.bindGroupsCreated).toBeLessThanOrEqual(2);
      tf.dispose([a, b]);
    });
  });

  it('writes an existing tensor in place, folds a grid past the per-dimension limit, and checks its arguments', async () => {
    await expectNoLeak(async () => {
      const size = 70_000 * 64 + 5; // more than 65,535 workgroups of 64
      const target = tf.zeros([size]);
      const [same] = dispatchKernel(INCREMENT, [], [{ writeInto: target }], [size], Math.ceil(size / 64));
      expect(same).toBe(target);
      const values = await target.data();
      expect(values[0]).toBe(1);
      expect(values[size - 1]).toBe(1);
      expect(values.every((v) => v === 1)).toBe(true);
      expect(() => dispatchKernel(INCREMENT, [target], [{ writeInto: target }], [size], 1)).toThrow(
        KernelArgumentError,
      );
      target.dispose();
    });
  });
});
