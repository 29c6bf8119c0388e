import * as tf from '@tensorflow/tfjs-core';
import { DynamicLayerCache, type KeyValueBlocks, type LayerCache, StaticLayerCache } from '@tsformer/cache';
import { enableGradients, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotaryKeyValues } from '../rotary-key-values.js';
import { disableWebgpuAttention, enableWebgpuAttention } from './enable-webgpu-attention.js';
import { webgpuRotaryKeyValues } from './webgpu-rotary-key-values.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuAttention();
});
afterAll(() => disableWebgpuAttention());

interface RopeCase {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Rotated channels (`headDim` for full rotary, fewer for GPT-NeoX / Phi's partial rotary). */
  width: number;
  /** Tokens of each step: a prefill, then decode steps. */
  steps: number[];
  cache: 'none' | 'dynamic' | 'static';
}

const cases: RopeCase[] = [
  { batch: 1, heads: 1, kvHeads: 1, headDim: 2, width: 2, steps: [1], cache: 'none' },
  { batch: 2, heads: 4, kvHeads: 2, headDim: 10, width: 4, steps: [3, 1, 1], cache: 'none' },
  { batch: 2, heads: 6, kvHeads: 2, headDim: 24, width: 24, steps: [5, 1, 1, 1], cache: 'dynamic' },
  { batch: 3, heads: 4, kvHeads: 4, headDim: 12, width: 6, steps: [62, 1, 1, 1, 1], cache: 'static' },
  { batch: 1, heads: 8, kvHeads: 1, headDim: 64, width: 64, steps: [63, 1, 1], cache: 'static' },
];

function cacheFor(kind: RopeCase['cache']): LayerCache | null {
  if (kind === 'dynamic') return new DynamicLayerCache();
  if (kind === 'static') return new StaticLayerCache(70);
  return null;
}

/** Every key, then every value, of the blocks, in order. */
async function blockValues(keyValues: KeyValueBlocks): Promise<number[]> {
  const all: number[] = [];
  for (const tensor of [...keyValues.keys, ...keyValues.values]) all.push(...(await tensor.data()));
  return all;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `${what} element ${i}`).toBeLessThan(1e-6);
  }
}

describe('rotaryKeyValues on webgpu (ropeKernel, in place into a static cache)', () => {
  it.each(cases.map((testCase) => [JSON.stringify(testCase), testCase] as const))(
    '%s: the rotated query and every cache block within 1e-6 of the portable op, step after step',
    async (_, testCase) => {
      await expectNoLeak(async () => {
        const { batch, heads, kvHeads, headDim, width } = testCase;
        const random = new SeededRandom(batch * 100 + headDim);
        const fastCache = cacheFor(testCase.cache);
        const portableCache = cacheFor(testCase.cache);
        for (const [step, tokens] of testCase.steps.entries()) {
          const query = tf.tensor4d(random.normalArray(batch * heads * tokens * headDim, 1), [
            batch,
            heads,
            tokens,
            headDim,
          ]);
          const key = tf.tensor4d(random.normalArray(batch * kvHeads * tokens * headDim, 1), [
            batch,
            kvHeads,
            tokens,
            headDim,
          ]);
          const value = tf.tensor4d(random.normalArray(batch * kvHeads * tokens * headDim, 1), [
            batch,
            kvHeads,
            tokens,
            headDim,
          ]);
          const cos = tf.tensor3d(random.normalArray(batch * tokens * width, 1), [batch, tokens, width]);
          const sin = tf.tensor3d(random.normalArray(batch * tokens * width, 1), [batch, tokens, width]);
          const fast = tf.tidy(() => {
            const result = webgpuRotaryKeyValues(query, key, value, cos, sin, fastCache);
            expect(result).toBeDefined();
            return { query: result!.query, keys: result!.keyValues.keys, values: result!.keyValues.values };
          });
          const portable = tf.tidy(() => {
            const result = rotaryKeyValues.portable(query, key, value, cos, sin, portableCache);
            return { query: result.query, keys: result.keyValues.keys, values: result.keyValues.values };
          });
          const where = `step ${step}`;
          expectClose(await fast.query.data(), await portable.query.data(), `${where} query`);
          const asBlocks = (parts: typeof fast) => ({ ...parts, keyStart: 0, keyLength: 0 });
          expectClose(
            await blockValues(asBlocks(fast)),
            await blockValues(asBlocks(portable)),
            `${where} cache`,
          );
          expect(fast.keys.map((block) => block.shape)).toEqual(portable.keys.map((block) => block.shape));
          // The cache's own tensors stay with the cache; the rest of each step is the caller's.
          const owned = new Set([...(fastCache ? [] : fast.keys), ...(portableCache ? [] : portable.keys)]);
          const ownedValues = new Set([
            ...(fastCache ? [] : fast.values),
            ...(portableCache ? [] : portable.values),
          ]);
          tf.dispose([query, key, value, cos, sin, fast.query, portable.query, ...owned, ...ownedValues]);
        }
        expect(fastCache?.getSeqLength()).toBe(portableCache?.getSeqLength());
        fastCache?.dispose();
        portableCache?.dispose();
      });
    },
  );

  it('serves the registered op on webgpu', async () => {
    await expectNoLeak(async () => {
      const x = tf.tensor4d([1, 2], [1, 1, 1, 2]);
      const cos = tf.tensor3d([0, 0], [1, 1, 2]);
      const sin = tf.tensor3d([1, 1], [1, 1, 2]);
      const { query, keyValues } = rotaryKeyValues(x, x, x, cos, sin, null);
      // rotate_half([1, 2]) = [-2, 1]: cos 0, sin 1 leaves exactly that.
      expect(Array.from(await query.data())).toEqual([-2, 1]);
      expect(Array.from(await keyValues.keys[0]!.data())).toEqual([-2, 1]);
      tf.dispose([x, cos, sin, query, keyValues.keys[0]!]);
    });
  });

  it('leaves a gradient to the portable ops (a kernel records none)', async () => {
    await enableGradients();
    await expectNoLeak(async () => {
      const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
      const cos = tf.tensor3d([1, 2, 1, 2], [1, 1, 4]);
      const sin = tf.tensor3d([3, 4, 3, 4], [1, 1, 4]);
      const gradient = tf.grad((q: tf.Tensor4D) => tf.sum(rotaryKeyValues(q, q, q, cos, sin, null).query))(x);
      // d/dq Σ (q·cos + rotate_half(q)·sin), rotate_half(q) = [-q2, -q3, q0, q1]
      expect(Array.from(await gradient.data())).toEqual([4, 6, -2, -2]);
      tf.dispose([x, cos, sin, gradient]);
    });
  });
});
