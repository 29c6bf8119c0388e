import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks } from '@tsformer/cache';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { disableCpuKernels, enableCpuKernels, type KernelPool, KernelPoolError } from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeAttention } from '../decode-attention.js';
import { disableCpuAttention, enableCpuAttention } from './enable-cpu-attention.js';

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

interface Case {
  name: string;
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** The cache's block lengths, oldest first. */
  blocks: number[];
  /** Per row, how many leading positions are padding (masked); undefined: no mask at all. */
  padding?: number[];
  /** One mask row for every batch row (`[1, 1, 1, keys]`). */
  sharedMask?: boolean;
  scale?: number;
  softcap?: number;
}

const CASES: Case[] = [
  { name: 'one row, one block, no mask', batch: 1, heads: 3, kvHeads: 3, headDim: 5, blocks: [7] },
  {
    name: 'three rows with their own left padding, grouped-query, three blocks',
    batch: 3,
    heads: 6,
    kvHeads: 2,
    headDim: 7,
    blocks: [64, 3, 1],
    padding: [0, 5, 66],
  },
  {
    name: 'soft-capped scores, one kv head, a shared mask, scale 1',
    batch: 2,
    heads: 4,
    kvHeads: 1,
    headDim: 64,
    blocks: [33],
    padding: [2],
    sharedMask: true,
    scale: 1,
    softcap: 2,
  },
  {
    name: 'GPT-2 head size with soft-capping',
    batch: 1,
    heads: 12,
    kvHeads: 12,
    headDim: 64,
    blocks: [64, 64, 2],
    softcap: 50,
  },
];

/**
 * Attention in float64, and per output element the bound its float32 value obeys: score errors of
 * (headDim + 2)·u·scale·Σ|q·k| (at most, through the cap, whose slope is ≤ 1) change each weight by a
 * relative 2× that, and the weighted sum adds (keys + 16)·u of Σ p·|v|.
 */
function attentionFloat64(
  q: Float32Array,
  k: Float32Array, // [batch, kvHeads, keys, headDim]
  v: Float32Array,
  mask: Float32Array | null, // [mask rows, keys]
  c: Case & { keys: number; scale: number },
): { expected: number[]; bound: number[] } {
  const { batch, heads, kvHeads, headDim, keys, scale, softcap } = c;
  const expected: number[] = [];
  const bound: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvRow = b * kvHeads + Math.floor(h / (heads / kvHeads));
      let scoreError = 0;
      const scores = Array.from({ length: keys }, (_, j) => {
        let dot = 0;
        let magnitude = 0;
        for (let d = 0; d < headDim; d++) {
          const product = q[(b * heads + h) * headDim + d]! * k[(kvRow * keys + j) * headDim + d]!;
          dot += product;
          magnitude += Math.abs(product);
        }
        scoreError = Math.max(scoreError, (headDim + 2) * U * scale * magnitude);
        let s = dot * scale;
        if (softcap !== undefined) s = Math.tanh(s / softcap) * softcap;
        return s + (mask ? mask[(mask.length === keys ? 0 : b) * keys + j]! : 0);
      });
      const maximum = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - maximum));
      const total = weights.reduce((a, w) => a + w, 0);
      for (let d = 0; d < headDim; d++) {
        let sum = 0;
        let magnitude = 0;
        weights.forEach((w, j) => {
          const value = v[(kvRow * keys + j) * headDim + d]!;
          sum += (w / total) * value;
          magnitude += (w / total) * Math.abs(value);
        });
        expected.push(sum);
        bound.push((4 * scoreError + (keys + 16) * U) * magnitude + 1e-30);
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

/** `values` [batch, kvHeads, keys, headDim] cut along the key axis into blocks of `lengths`. */
function blocksOf(values: Float32Array, c: Case, keys: number): tf.Tensor4D[] {
  const whole = tf.tensor4d(values, [c.batch, c.kvHeads, keys, c.headDim]);
  const blocks = tf.split(whole, c.blocks, 2) as tf.Tensor4D[];
  whole.dispose();
  return blocks;
}

describe.each(['wasm', 'cpu'] as const)('decodeAttention with the CPU kernel on %s', (backend) => {
  let kernelCalls: ReturnType<typeof vi.spyOn>;
  let pool: KernelPool;
  beforeAll(async () => {
    await useBackend(backend);
    pool = await enableCpuKernels({ threads: 2 });
    enableCpuAttention(pool);
    kernelCalls = vi.spyOn(pool, 'callOnCaller');
  });
  afterAll(() => {
    kernelCalls.mockRestore();
    disableCpuAttention();
    disableCpuKernels();
  });

  const attentionCalls = () => kernelCalls.mock.calls.filter(([name]) => name === 'decodeAttention').length;

  for (const c of CASES) {
    it(`${c.name}: matches float64 and the portable op, no tensor left`, async () => {
      const keys = c.blocks.reduce((a, b) => a + b, 0);
      const scale = c.scale ?? 1 / Math.sqrt(c.headDim);
      const random = new SeededRandom(keys * 31 + c.headDim);
      const q = random.normalArray(c.batch * c.heads * c.headDim);
      const k = random.normalArray(c.batch * c.kvHeads * keys * c.headDim);
      const v = random.normalArray(c.batch * c.kvHeads * keys * c.headDim);
      const maskRows = c.padding === undefined ? 0 : c.sharedMask ? 1 : c.batch;
      // Row 0 pads with -Infinity, the others with float32's lowest value (HF's finfo.min), as masks do.
      const mask =
        c.padding === undefined
          ? null
          : Float32Array.from({ length: maskRows * keys }, (_, i) => {
              const row = Math.floor(i / keys);
              const masked = i % keys < c.padding![row]!;
              return masked ? (row === 0 ? -Infinity : -3.4028234663852886e38) : 0;
            });
      const { expected, bound } = attentionFloat64(q, k, v, mask, { ...c, keys, scale });
      const before = attentionCalls();
      await expectNoLeak(async () => {
        const keyBlocks = blocksOf(k, c, keys);
        const valueBlocks = blocksOf(v, c, keys);
        const keyValues: KeyValueBlocks = {
          keys: keyBlocks,
          values: valueBlocks,
          keyStart: 0,
          keyLength: keys,
        };
        const input = {
          query: tf.tensor4d(q, [c.batch, c.heads, 1, c.headDim]),
          keyValues,
          mask: mask && tf.tensor4d(mask, [maskRows, 1, 1, keys]),
          scale,
          softcap: c.softcap ?? null,
        };
        const { output } = decodeAttention(input);
        expect(output.shape).toEqual([c.batch, c.heads, 1, c.headDim]);
        const values = await output.data();
        expectWithin(values, expected, bound, 'against float64');
        const portable = decodeAttention.portable(input).output;
        expectWithin(
          values,
          Array.from(await portable.data()),
          bound.map((b) => 2 * b),
          'against the portable op',
        );
        tf.dispose([input.query, input.mask ?? [], ...keyBlocks, ...valueBlocks, output, portable]);
      });
      expect(attentionCalls() - before).toBe(1);
    });
  }

  it('falls back to the portable op, copies dropped, when the heap runs out mid-step', async () => {
    await expectNoLeak(async () => {
      const random = new SeededRandom(11);
      const block = () => tf.tensor4d(random.normalArray(2 * 2 * 5 * 8), [2, 2, 5, 8]);
      const keys = [block(), block(), block()];
      const values = [block(), block(), block()];
      const keyValues: KeyValueBlocks = { keys, values, keyStart: 0, keyLength: 15 };
      const query = tf.tensor4d(random.normalArray(2 * 4 * 8), [2, 4, 1, 8]);
      const heapBytes = pool.heap.allocatedBytes;
      // The heap grants three of the six blocks' copies, then reports itself full.
      const allocate = pool.heap.allocate.bind(pool.heap);
      let granted = 0;
      const full = vi.spyOn(pool.heap, 'allocate').mockImplementation((bytes) => {
        if (++granted > 3) throw new KernelPoolError('shared heap: full (test)');
        return allocate(bytes);
      });
      const before = attentionCalls();
      let output: tf.Tensor;
      try {
        output = decodeAttention({ query, keyValues }).output;
      } finally {
        full.mockRestore();
      }
      expect(granted).toBeGreaterThan(3);
      expect(attentionCalls()).toBe(before);
      expect(pool.heap.allocatedBytes).toBeLessThanOrEqual(heapBytes); // the three copies freed
      const portable = decodeAttention.portable({ query, keyValues }).output;
      expect(await output.data()).toEqual(await portable.data());
      tf.dispose([query, ...keys, ...values, output, portable]);
    });
  });

  it('a second enableCpuAttention with the same pool keeps the kernel and its copies of the blocks', async () => {
    await expectNoLeak(async () => {
      const random = new SeededRandom(13);
      const key = tf.tensor4d(random.normalArray(2 * 6 * 8), [1, 2, 6, 8]);
      const value = tf.tensor4d(random.normalArray(2 * 6 * 8), [1, 2, 6, 8]);
      const keyValues: KeyValueBlocks = { keys: [key], values: [value], keyStart: 0, keyLength: 6 };
      const query = tf.tensor4d(random.normalArray(2 * 8), [1, 2, 1, 8]);
      const first = decodeAttention({ query, keyValues }).output;
      enableCpuAttention(pool);
      const allocations = vi.spyOn(pool.heap, 'allocate');
      const second = decodeAttention({ query, keyValues }).output;
      expect(allocations).not.toHaveBeenCalled(); // the blocks' copies were kept
      allocations.mockRestore();
      expect(await second.data()).toEqual(await first.data());
      tf.dispose([key, value, query, first, second]);
    });
  });

  it('leaves prefill, attention maps and head masks to the portable op', async () => {
    await expectNoLeak(async () => {
      const random = new SeededRandom(5);
      const key = tf.tensor4d(random.normalArray(2 * 3 * 4), [1, 2, 3, 4]);
      const value = tf.tensor4d(random.normalArray(2 * 3 * 4), [1, 2, 3, 4]);
      const keyValues: KeyValueBlocks = { keys: [key], values: [value], keyStart: 0, keyLength: 3 };
      const one = tf.tensor4d(random.normalArray(2 * 4), [1, 2, 1, 4]);
      const two = tf.tensor4d(random.normalArray(2 * 2 * 4), [1, 2, 2, 4]);
      const headMask = tf.ones([2]) as tf.Tensor1D;
      const before = attentionCalls();
      const results = [
        decodeAttention({ query: two, keyValues }),
        decodeAttention({ query: one, keyValues, outputAttentions: true }),
        decodeAttention({ query: one, keyValues, headMask }),
      ];
      expect(attentionCalls()).toBe(before);
      expect(results[1]!.attentions?.shape).toEqual([1, 2, 1, 3]);
      tf.dispose([key, value, one, two, headMask, ...results.flatMap((r) => [r.output, r.attentions ?? []])]);
    });
  });
});
