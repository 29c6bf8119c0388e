import * as tf from '@tensorflow/tfjs-core';
import { DynamicLayerCache } from '@tsformer/cache';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { disableCpuKernels, enableCpuKernels } from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rotaryKeyValues } from '../rotary-key-values.js';
import { disableCpuAttention, enableCpuAttention } from './enable-cpu-attention.js';

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

/** [batch, heads, kvHeads, seq, headDim, width]: full rotary, partial, an odd head size, a decode step. */
const SHAPES: [number, number, number, number, number, number][] = [
  [2, 4, 2, 3, 10, 10],
  [1, 3, 3, 5, 10, 6],
  [2, 2, 1, 4, 7, 4],
  [1, 4, 4, 1, 64, 64],
];

/**
 * RoPE of x [batch, heads, seq, headDim] in float64 with the bound a float32 result obeys (two rounded
 * products and a rounded sum: 2u of |x1·cos| + |x2·sin|); channels past `width` exactly x.
 */
function rotateFloat64(
  x: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  shape: number[],
  width: number,
) {
  const [batch, heads, seq, headDim] = shape as [number, number, number, number];
  const half = width / 2;
  const expected: number[] = [];
  const bound: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < seq; t++) {
        const row = ((b * heads + h) * seq + t) * headDim;
        const angles = (b * seq + t) * width;
        for (let d = 0; d < headDim; d++) {
          if (d >= width) {
            expected.push(x[row + d]!);
            bound.push(0);
            continue;
          }
          const partner = d < half ? -x[row + d + half]! : x[row + d - half]!;
          const a = x[row + d]! * cos[angles + d]!;
          const c = partner * sin[angles + d]!;
          expected.push(a + c);
          bound.push(2 * U * (Math.abs(a) + Math.abs(c)));
        }
      }
    }
  }
  return { expected, bound };
}

function expectWithin(actual: ArrayLike<number>, expected: number[], bound: number[], what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= bound[i]!)) {
      expect.fail(`${what}, element ${i}: ${actual[i]} vs ${expected[i]} (bound ${bound[i]})`);
    }
  }
}

describe.each(['wasm', 'cpu'] as const)('rotaryKeyValues with the CPU kernel on %s', (backend) => {
  let kernelCalls: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    await useBackend(backend);
    const pool = await enableCpuKernels({ threads: 2 });
    enableCpuAttention(pool);
    kernelCalls = vi.spyOn(pool, 'callOnCaller');
  });
  afterAll(() => {
    kernelCalls.mockRestore();
    disableCpuAttention();
    disableCpuKernels();
  });

  for (const [batch, heads, kvHeads, seq, headDim, width] of SHAPES) {
    it(`query [${batch}, ${heads}, ${seq}, ${headDim}], rotary width ${width}: within float64's bound, bit-equal to the portable op, the cache gets the rotated key`, async () => {
      const random = new SeededRandom(batch * 100 + seq * 10 + headDim);
      const q = random.normalArray(batch * heads * seq * headDim);
      const k = random.normalArray(batch * kvHeads * seq * headDim);
      const v = random.normalArray(batch * kvHeads * seq * headDim);
      const angles = Float32Array.from(random.normalArray(batch * seq * width), (a) => a * 3);
      const cos = angles.map(Math.cos);
      const sin = angles.map(Math.sin);
      const queryExpected = rotateFloat64(q, cos, sin, [batch, heads, seq, headDim], width);
      const keyExpected = rotateFloat64(k, cos, sin, [batch, kvHeads, seq, headDim], width);
      kernelCalls.mockClear();
      await expectNoLeak(async () => {
        const cache = new DynamicLayerCache();
        const inputs = [
          tf.tensor4d(q, [batch, heads, seq, headDim]),
          tf.tensor4d(k, [batch, kvHeads, seq, headDim]),
          tf.tensor4d(v, [batch, kvHeads, seq, headDim]),
          tf.tensor3d(cos, [batch, seq, width]),
          tf.tensor3d(sin, [batch, seq, width]),
        ] as const;
        const [fast, portable] = tf.tidy(() => {
          const fused = rotaryKeyValues(...inputs, cache);
          const reference = rotaryKeyValues.portable(...inputs, null);
          return [
            [fused.query, fused.keyValues.keys[0]!, fused.keyValues.values[0]!],
            [reference.query, reference.keyValues.keys[0]!],
          ];
        });
        const [query, key, value] = await Promise.all(fast!.map((tensor) => tensor.data()));
        expectWithin(query!, queryExpected.expected, queryExpected.bound, 'query against float64');
        expectWithin(key!, keyExpected.expected, keyExpected.bound, 'key against float64');
        expect(value).toEqual(v);
        // The kernel rounds the same float32 products and sum as tfjs's mul, mul, add: bit-equal.
        const [portableQuery, portableKey] = await Promise.all(portable!.map((tensor) => tensor.data()));
        expect(query).toEqual(portableQuery);
        expect(key).toEqual(portableKey);
        expect(cache.getSeqLength()).toBe(seq);
        tf.dispose([...inputs, ...fast!, ...portable!]);
        cache.dispose();
      });
      expect(kernelCalls.mock.calls.filter(([name]) => name === 'rotateHalves').length).toBe(2);
    });
  }
});
