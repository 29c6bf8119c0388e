import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { fastDispatchStats } from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASKED_SCORE } from '../attention-mask.js';
import type { AttentionInput } from '../attention-types.js';
import { decodeAttention } from '../decode-attention.js';
import { disableWebgpuAttention, enableWebgpuAttention } from './enable-webgpu-attention.js';
import { webgpuPrefillAttention } from './webgpu-prefill-attention.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuAttention();
});
afterAll(() => disableWebgpuAttention());

interface PrefillCase {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  queryLength: number;
  /** Keys of each cache block; the last `queryLength` keys are the queries' own positions. */
  blocks: number[];
  /**
   * `none`: every query sees every key; `causal`: one mask for every row; `left-padding`: causal, and row
   * r's first 3 + 5r keys are padding; `sliding-window`: causal, and only the last 7 positions are seen.
   */
  mask?: 'none' | 'causal' | 'left-padding' | 'sliding-window';
  /** What a hidden key's mask holds (default tsformer's finite `MASKED_SCORE`; a caller's may hold -Infinity). */
  hiddenScore?: number;
  softcap?: number;
  scale?: number;
}

const cases: PrefillCase[] = [
  { batch: 1, heads: 1, kvHeads: 1, headDim: 5, queryLength: 2, blocks: [2], mask: 'causal' },
  { batch: 1, heads: 4, kvHeads: 1, headDim: 24, queryLength: 7, blocks: [7] },
  { batch: 2, heads: 6, kvHeads: 2, headDim: 64, queryLength: 45, blocks: [64, 17], mask: 'left-padding' },
  // A chunk of a prompt after 64 cached tokens: the queries sit at positions 64…96.
  { batch: 3, heads: 3, kvHeads: 3, headDim: 33, queryLength: 33, blocks: [64, 33], mask: 'left-padding' },
  { batch: 2, heads: 8, kvHeads: 4, headDim: 16, queryLength: 70, blocks: [70], mask: 'sliding-window' },
  {
    batch: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 16,
    queryLength: 40,
    blocks: [64, 40],
    mask: 'causal',
    hiddenScore: -Infinity,
  },
  {
    batch: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 256,
    queryLength: 35,
    blocks: [35],
    mask: 'left-padding',
    softcap: 2,
    scale: 0.5,
  },
  // More blocks than one dispatch binds: later dispatches carry the running softmax state on.
  {
    batch: 1,
    heads: 5,
    kvHeads: 5,
    headDim: 7,
    queryLength: 9,
    blocks: [64, 64, 64, 64, 64, 64, 64, 64, 9],
    mask: 'causal',
    softcap: 30,
  },
];

/** The additive mask `[batch or 1, 1, queryLength, keyLength]` of `testCase`, as float32 values. */
function maskValues(testCase: PrefillCase, keyLength: number): { values: Float32Array; rows: number } | null {
  const { batch, queryLength, mask = 'none' } = testCase;
  if (mask === 'none') return null;
  const rows = mask === 'causal' ? 1 : batch;
  const hidden = testCase.hiddenScore ?? MASKED_SCORE;
  const values = new Float32Array(rows * queryLength * keyLength);
  for (let row = 0; row < rows; row++) {
    for (let q = 0; q < queryLength; q++) {
      const position = keyLength - queryLength + q;
      for (let key = 0; key < keyLength; key++) {
        const visible =
          key <= position &&
          (mask !== 'left-padding' || key >= 3 + 5 * row) &&
          (mask !== 'sliding-window' || position - key < 7);
        if (!visible) values[(row * queryLength + q) * keyLength + key] = hidden;
      }
    }
  }
  return { values, rows };
}

/** Attention in float64: `softmax(cap(q·k · scale) + mask) · v` per row, query head and query. */
function attentionFloat64(
  testCase: PrefillCase,
  query: Float32Array,
  keys: Float32Array[],
  values: Float32Array[],
  mask: { values: Float32Array; rows: number } | null,
): Float64Array {
  const { batch, heads, kvHeads, headDim, queryLength, blocks } = testCase;
  const keyLength = blocks.reduce((total, length) => total + length, 0);
  const scale = testCase.scale ?? 1 / Math.sqrt(headDim);
  // Where key k of (row b, kv head g) starts in its block's data.
  const keyRows = blocks.flatMap((length, block) =>
    Array.from({ length }, (_, j) => ({
      block,
      at: (b: number, g: number) => ((b * kvHeads + g) * length + j) * headDim,
    })),
  );
  const output = new Float64Array(batch * heads * queryLength * headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      for (let q = 0; q < queryLength; q++) {
        const queryAt = ((b * heads + h) * queryLength + q) * headDim;
        const scores = keyRows.map(({ block, at }, key) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += query[queryAt + d]! * keys[block]![at(b, g) + d]!;
          let score = dot * scale;
          if (testCase.softcap) score = Math.tanh(score / testCase.softcap) * testCase.softcap;
          if (mask) score += mask.values[((mask.rows === 1 ? 0 : b) * queryLength + q) * keyLength + key]!;
          return score;
        });
        const largest = Math.max(...scores);
        const weights = scores.map((score) => Math.exp(score - largest));
        const total = weights.reduce((sum, weight) => sum + weight, 0);
        for (let d = 0; d < headDim; d++) {
          let sum = 0;
          keyRows.forEach(({ block, at }, key) => {
            sum += (weights[key]! / total) * values[block]![at(b, g) + d]!;
          });
          output[queryAt + d] = sum;
        }
      }
    }
  }
  return output;
}

function describeCase(testCase: PrefillCase): string {
  const {
    batch,
    heads,
    kvHeads,
    headDim,
    queryLength,
    blocks,
    mask = 'none',
    softcap,
    hiddenScore,
  } = testCase;
  const hidden = hiddenScore === undefined ? '' : ` (hidden: ${hiddenScore})`;
  return `batch ${batch}, heads ${heads}/${kvHeads}, headDim ${headDim}, ${queryLength} queries, blocks [${blocks}], mask ${mask}${hidden}, softcap ${softcap ?? 'none'}`;
}

describe('decodeAttention on webgpu for many queries per row (prefillAttentionKernel)', () => {
  it.each(cases.map((testCase) => [describeCase(testCase), testCase] as const))(
    '%s: within 1e-5 of float64 and of the portable (eager) attention',
    async (_, testCase) => {
      await expectNoLeak(async () => {
        const { batch, heads, kvHeads, headDim, queryLength, blocks } = testCase;
        const random = new SeededRandom(batch * 1000 + heads * 100 + headDim + queryLength);
        const queryValues = random.normalArray(batch * heads * queryLength * headDim, 1);
        const keyValues = blocks.map((length) => random.normalArray(batch * kvHeads * length * headDim, 1));
        const valueValues = blocks.map((length) => random.normalArray(batch * kvHeads * length * headDim, 1));
        const query = tf.tensor4d(queryValues, [batch, heads, queryLength, headDim]);
        const keys = blocks.map((length, block) =>
          tf.tensor4d(keyValues[block]!, [batch, kvHeads, length, headDim]),
        );
        const values = blocks.map((length, block) =>
          tf.tensor4d(valueValues[block]!, [batch, kvHeads, length, headDim]),
        );
        const keyLength = blocks.reduce((total, length) => total + length, 0);
        const maskData = maskValues(testCase, keyLength);
        const mask = maskData && tf.tensor4d(maskData.values, [maskData.rows, 1, queryLength, keyLength]);
        const input: AttentionInput = {
          query,
          keyValues: { keys, values, keyStart: 0, keyLength },
          mask,
          scale: testCase.scale,
          softcap: testCase.softcap,
        };

        const fast = webgpuPrefillAttention(input);
        expect(fast).toBeDefined();
        expect(fast!.output.shape).toEqual([batch, heads, queryLength, headDim]);
        const actual = await fast!.output.data();
        const reference = attentionFloat64(testCase, queryValues, keyValues, valueValues, maskData);
        for (let i = 0; i < reference.length; i++) {
          expect(Math.abs(actual[i]! - reference[i]!), `element ${i}`).toBeLessThan(1e-5);
        }
        // tfjs-webgpu's concat binds every block at once: past the device's storage-buffer limit the
        // portable path cannot run at all, so it is compared where it can.
        if (blocks.length <= 6) {
          const portable = decodeAttention.portable(input);
          const expected = await portable.output.data();
          for (let i = 0; i < expected.length; i++) {
            expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThan(1e-5);
          }
          portable.output.dispose();
        }
        tf.dispose([query, ...keys, ...values, ...(mask ? [mask] : []), fast!.output]);
      });
    },
  );

  it('serves the registered op for a prefill and leaves attention maps, head masks and position biases to the portable one', async () => {
    await expectNoLeak(async () => {
      const query = tf.ones([1, 2, 3, 4]) as tf.Tensor4D;
      const key = tf.tensor4d([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 1, 3, 4]);
      const value = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4]);
      const keyValues = { keys: [key], values: [value], keyStart: 0, keyLength: 3 };
      const bias = tf.zeros([1, 2, 3, 3]) as tf.Tensor4D;
      const headMask = tf.ones([2]) as tf.Tensor1D;
      expect(webgpuPrefillAttention({ query, keyValues, outputAttentions: true })).toBeUndefined();
      expect(webgpuPrefillAttention({ query, keyValues, positionBias: bias })).toBeUndefined();
      expect(webgpuPrefillAttention({ query, keyValues, headMask })).toBeUndefined();
      // Equal scores: every query of both heads gets the mean of the three value rows, in one dispatch.
      const before = fastDispatchStats().dispatches;
      const { output } = decodeAttention({ query, keyValues, scale: 1 });
      expect(fastDispatchStats().dispatches - before).toBe(1);
      expect(Array.from(await output.data())).toEqual(Array.from({ length: 6 }, () => [5, 6, 7, 8]).flat());
      tf.dispose([query, key, value, bias, headMask, output]);
    });
  });
});
