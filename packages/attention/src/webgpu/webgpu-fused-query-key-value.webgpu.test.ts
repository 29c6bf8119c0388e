import * as tf from '@tensorflow/tfjs-core';
import { DynamicLayerCache, type KeyValueBlocks, type LayerCache, StaticLayerCache } from '@tsformer/cache';
import { enableGradients, Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { disableWebgpuKernels, enableWebgpuKernels, fastDispatchStats } from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttentionInputError } from '../errors.js';
import { projectQueryKeyValueHeads } from '../project-query-key-value-heads.js';
import { type FusedQueryKeyValueLayout, splitFusedQueryKeyValue } from '../split-heads.js';
import { storeFusedQueryKeyValue } from '../store-fused-query-key-value.js';
import { disableWebgpuAttention, enableWebgpuAttention } from './enable-webgpu-attention.js';
import { webgpuStoreFusedQueryKeyValue } from './webgpu-fused-query-key-value.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuAttention();
  enableWebgpuKernels({ bf16Weights: false });
});

afterAll(() => {
  disableWebgpuAttention();
  disableWebgpuKernels();
});

interface FusedCase {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  order: FusedQueryKeyValueLayout['order'];
  /** Rotated channels, or null without RoPE (GPT-2). */
  width: number | null;
  /** Tokens of each step: a prefill, then decode steps. */
  steps: number[];
  cache: 'none' | 'dynamic' | 'static';
}

const cases: FusedCase[] = [
  // GPT-2: blocks, no rope; the static cache's decode steps cross from block 0 into block 1.
  {
    batch: 1,
    heads: 3,
    kvHeads: 3,
    headDim: 8,
    order: 'blocks',
    width: null,
    steps: [62, 1, 1, 1],
    cache: 'static',
  },
  {
    batch: 3,
    heads: 2,
    kvHeads: 2,
    headDim: 7,
    order: 'blocks',
    width: null,
    steps: [5, 1, 1],
    cache: 'dynamic',
  },
  { batch: 2, heads: 5, kvHeads: 5, headDim: 3, order: 'blocks', width: null, steps: [4, 1], cache: 'none' },
  // Phi-3: blocks with grouped key/value heads and RoPE, partial too.
  {
    batch: 2,
    heads: 6,
    kvHeads: 2,
    headDim: 12,
    order: 'blocks',
    width: 12,
    steps: [3, 1, 1],
    cache: 'static',
  },
  { batch: 3, heads: 4, kvHeads: 1, headDim: 10, order: 'blocks', width: 4, steps: [70, 1], cache: 'static' },
  // GPT-NeoX: per-head with partial RoPE.
  {
    batch: 2,
    heads: 4,
    kvHeads: 4,
    headDim: 16,
    order: 'per-head',
    width: 4,
    steps: [6, 1, 1],
    cache: 'static',
  },
  {
    batch: 1,
    heads: 3,
    kvHeads: 3,
    headDim: 6,
    order: 'per-head',
    width: 6,
    steps: [2, 1],
    cache: 'dynamic',
  },
  {
    batch: 2,
    heads: 2,
    kvHeads: 2,
    headDim: 5,
    order: 'per-head',
    width: null,
    steps: [3, 1],
    cache: 'none',
  },
];

function cacheFor(kind: FusedCase['cache']): LayerCache | null {
  if (kind === 'dynamic') return new DynamicLayerCache();
  if (kind === 'static') return new StaticLayerCache(80);
  return null;
}

async function blockValues(keyValues: Pick<KeyValueBlocks, 'keys' | 'values'>): Promise<number[]> {
  const all: number[] = [];
  for (const tensor of [...keyValues.keys, ...keyValues.values]) all.push(...(await tensor.data()));
  return all;
}

/**
 * Part `part` (0 query, 1 key, 2 value) of a fused projection in float64, `[batch, partHeads, seq,
 * headDim]`, rotated (query and key) by `cos`/`sin` `[batch, seq, width]` when given — independent of
 * both the kernel and the portable op.
 */
function partFloat64(
  testCase: FusedCase,
  part: 0 | 1 | 2,
  projection: Float32Array,
  tokens: number,
  cos: Float32Array | null,
  sin: Float32Array | null,
): Float64Array {
  const { batch, heads, kvHeads, headDim, order, width } = testCase;
  const features = (heads + 2 * kvHeads) * headDim;
  const partHeads = part === 0 ? heads : kvHeads;
  const column = (head: number) =>
    order === 'per-head'
      ? (head * 3 + part) * headDim
      : ([0, heads, heads + kvHeads][part]! + head) * headDim;
  const out = new Float64Array(batch * partHeads * tokens * headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < partHeads; h++) {
      for (let s = 0; s < tokens; s++) {
        const at = (b * tokens + s) * features + column(h);
        for (let d = 0; d < headDim; d++) {
          let x = projection[at + d]!;
          if (part < 2 && width !== null && d < width && cos && sin) {
            const half = width / 2;
            const partner = d < half ? -projection[at + d + half]! : projection[at + d - half]!;
            const angle = (b * tokens + s) * width + d;
            x = x * cos[angle]! + partner * sin[angle]!;
          }
          out[((b * partHeads + h) * tokens + s) * headDim + d] = x;
        }
      }
    }
  }
  return out;
}

/** `blocks` `[batch, kvHeads, length, headDim]` (arrays) joined along the positions. */
function joinPositions(
  blocks: { data: ArrayLike<number>; length: number }[],
  rows: number,
  headDim: number,
): number[] {
  const joined: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (const { data, length } of blocks) {
      for (let i = row * length * headDim; i < (row + 1) * length * headDim; i++) joined.push(data[i]!);
    }
  }
  return joined;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `${what} element ${i}`).toBeLessThan(1e-6);
  }
}

describe('storeFusedQueryKeyValue on webgpu (fusedQueryKeyValueKernel)', () => {
  it.each(cases.map((testCase) => [JSON.stringify(testCase), testCase] as const))(
    '%s: the query and every cache block within 1e-6 of float64 and of the portable op, step after step',
    async (_, testCase) => {
      await expectNoLeak(async () => {
        const { batch, heads, kvHeads, headDim, order, width } = testCase;
        const layout = { heads, kvHeads, headDim, order };
        const features = (heads + 2 * kvHeads) * headDim;
        const random = new SeededRandom(batch * 100 + heads * 10 + headDim);
        const fastCache = cacheFor(testCase.cache);
        const portableCache = cacheFor(testCase.cache);
        const written: { keys: Float64Array; values: Float64Array; length: number }[] = [];
        for (const [step, tokens] of testCase.steps.entries()) {
          const projection = tf.tensor3d(random.normalArray(batch * tokens * features, 1), [
            batch,
            tokens,
            features,
          ]);
          const angles =
            width === null
              ? null
              : {
                  cos: tf.tensor3d(random.normalArray(batch * tokens * width, 1), [batch, tokens, width]),
                  sin: tf.tensor3d(random.normalArray(batch * tokens * width, 1), [batch, tokens, width]),
                };
          const fused = { projection, layout };
          const fast = tf.tidy(() => {
            const result = webgpuStoreFusedQueryKeyValue(fused, angles, fastCache);
            expect(result).toBeDefined();
            return { query: result!.query, keys: result!.keyValues.keys, values: result!.keyValues.values };
          });
          const portable = tf.tidy(() => {
            const result = storeFusedQueryKeyValue.portable(fused, angles, portableCache);
            return { query: result.query, keys: result.keyValues.keys, values: result.keyValues.values };
          });
          const where = `step ${step}`;
          expect(fast.query.shape).toEqual([batch, heads, tokens, headDim]);
          const projectionValues = (await projection.data()) as Float32Array;
          const cosValues = angles ? ((await angles.cos.data()) as Float32Array) : null;
          const sinValues = angles ? ((await angles.sin.data()) as Float32Array) : null;
          const reference = ([0, 1, 2] as const).map((part) =>
            partFloat64(testCase, part, projectionValues, tokens, cosValues, sinValues),
          );
          expectClose(await fast.query.data(), reference[0]!, `${where} query against float64`);
          written.push({ keys: reference[1]!, values: reference[2]!, length: tokens });
          const history = testCase.cache === 'none' ? written.slice(-1) : written;
          const rows = batch * kvHeads;
          for (const [index, name] of [
            [0, 'keys'],
            [1, 'values'],
          ] as const) {
            const blocks = index === 0 ? fast.keys : fast.values;
            const actual = joinPositions(
              await Promise.all(
                blocks.map(async (block) => ({ data: await block.data(), length: block.shape[2] })),
              ),
              rows,
              headDim,
            );
            const expected = joinPositions(
              history.map((entry) => ({
                data: index === 0 ? entry.keys : entry.values,
                length: entry.length,
              })),
              rows,
              headDim,
            );
            // A static cache's unwritten positions are zero.
            const positions = actual.length / (rows * headDim);
            const writtenPositions = expected.length / (rows * headDim);
            const padded = Array.from({ length: rows }, (_, row) => [
              ...expected.slice(row * writtenPositions * headDim, (row + 1) * writtenPositions * headDim),
              ...new Array((positions - writtenPositions) * headDim).fill(0),
            ]).flat();
            expectClose(actual, padded, `${where} ${name} against float64`);
          }
          expectClose(await fast.query.data(), await portable.query.data(), `${where} query`);
          expect(fast.keys.map((block) => block.shape)).toEqual(portable.keys.map((block) => block.shape));
          expectClose(await blockValues(fast), await blockValues(portable), `${where} keys and values`);
          // The cache's own tensors stay with the cache; the rest of each step is the caller's.
          const owned = [fast, portable].flatMap((parts, index) =>
            (index === 0 ? fastCache : portableCache) ? [] : [...parts.keys, ...parts.values],
          );
          tf.dispose([projection, ...(angles ? [angles.cos, angles.sin] : []), fast.query, portable.query]);
          tf.dispose(owned);
        }
        expect(fastCache?.getSeqLength()).toBe(portableCache?.getSeqLength());
        fastCache?.dispose();
        portableCache?.dispose();
      });
    },
  );

  it('serves the registered op with one dispatch for a static cache decode step', async () => {
    await expectNoLeak(async () => {
      const layout = { heads: 2, headDim: 2, order: 'blocks' } as const;
      const cache = new StaticLayerCache(4);
      const prefill = tf.tensor3d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 1, 12]);
      storeFusedQueryKeyValue({ projection: prefill, layout }, null, cache).query.dispose();
      const step = tf.tensor3d([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31], [1, 1, 12]);
      const before = fastDispatchStats().dispatches;
      const { query, keyValues } = storeFusedQueryKeyValue({ projection: step, layout }, null, cache);
      expect(fastDispatchStats().dispatches - before).toBe(1);
      // [q (2 heads · 2) | k | v]: head 1's query is [22, 23]; kv head 0 at position 1 is [24, 25] / [28, 29].
      expect(Array.from(await query.data())).toEqual([20, 21, 22, 23]);
      expect(Array.from(await keyValues.keys[0]!.data())).toEqual([
        4, 5, 24, 25, 0, 0, 0, 0, 6, 7, 26, 27, 0, 0, 0, 0,
      ]);
      expect(Array.from(await keyValues.values[0]!.data())).toEqual([
        8, 9, 28, 29, 0, 0, 0, 0, 10, 11, 30, 31, 0, 0, 0, 0,
      ]);
      tf.dispose([prefill, step, query]);
      cache.dispose();
    });
  });

  it('names a projection that does not hold the layout, and cos/sin that do not fit it', () => {
    const projection = tf.zeros([1, 1, 10]) as tf.Tensor3D;
    const layout = { heads: 2, headDim: 2, order: 'blocks' } as const;
    expect(() => storeFusedQueryKeyValue({ projection, layout }, null, null)).toThrow(AttentionInputError);
    expect(() => storeFusedQueryKeyValue({ projection, layout }, null, null)).toThrow(
      /must be \[batch, seq, 12\], got \[1,1,10\]/,
    );
    const fits = tf.zeros([1, 1, 12]) as tf.Tensor3D;
    const cos = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    expect(() => storeFusedQueryKeyValue({ projection: fits, layout }, { cos, sin: cos }, null)).toThrow(
      /query is \[1,2,1,2\]; with cos \[1,2,2\]/,
    );
    tf.dispose([projection, fits, cos]);
  });

  it('leaves a gradient to the portable ops (a kernel records none)', async () => {
    await enableGradients();
    await expectNoLeak(async () => {
      const layout = { heads: 1, headDim: 2, order: 'blocks' } as const;
      const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 1, 6]);
      const gradient = tf.grad((projection: tf.Tensor3D) => {
        const { query, keyValues } = storeFusedQueryKeyValue({ projection, layout }, null, null);
        return tf.add(tf.sum(query), tf.mul(2, tf.sum(keyValues.values[0]!)));
      })(x);
      expect(Array.from(await gradient.data())).toEqual([1, 1, 0, 0, 2, 2]);
      tf.dispose([x, gradient]);
    });
  });

  it('projectQueryKeyValueHeads gives q/k/v as one stacked projection on webgpu, equal to the portable heads', async () => {
    await expectNoLeak(async () => {
      const [heads, kvHeads, headDim, hiddenSize, batch] = [4, 2, 3, 7, 2];
      const random = new SeededRandom(7);
      const projection = (outF: number) => {
        const weight = new Parameter([outF, hiddenSize], { transposed: true });
        weight.assign(tf.tensor2d(random.normalArray(outF * hiddenSize, 1), [outF, hiddenSize]));
        const bias = new Parameter([outF]);
        bias.assign(tf.tensor1d(random.normalArray(outF, 1)));
        return { weight, bias };
      };
      const projections = {
        query: projection(heads * headDim),
        key: projection(kvHeads * headDim),
        value: projection(kvHeads * headDim),
        heads,
        kvHeads,
        headDim,
      };
      const hidden = tf.tensor3d(random.normalArray(batch * hiddenSize, 1), [batch, 1, hiddenSize]);
      const fast = projectQueryKeyValueHeads(hidden, projections);
      expect('projection' in fast).toBe(true);
      const portable = projectQueryKeyValueHeads.portable(hidden, projections);
      expect('projection' in portable).toBe(false);
      if (!('projection' in fast) || 'projection' in portable) return;
      expect(fast.layout).toEqual({ heads, kvHeads, headDim, order: 'blocks' });
      const split = splitFusedQueryKeyValue(fast.projection, fast.layout);
      for (const part of ['query', 'key', 'value'] as const) {
        expect(split[part].shape).toEqual(portable[part].shape);
        expectClose(await split[part].data(), await portable[part].data(), part);
      }
      tf.dispose([hidden, fast.projection, ...Object.values(split), ...Object.values(portable)]);
      for (const { weight, bias } of [projections.query, projections.key, projections.value]) {
        weight.dispose();
        bias.dispose();
      }
    });
  });
});
