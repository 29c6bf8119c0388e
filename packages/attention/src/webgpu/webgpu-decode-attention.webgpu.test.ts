import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { fastDispatchStats } from '@tsformer/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASKED_SCORE } from '../attention-mask.js';
import type { AttentionInput } from '../attention-types.js';
import { decodeAttention } from '../decode-attention.js';
import { disableWebgpuAttention, enableWebgpuAttention } from './enable-webgpu-attention.js';
import { webgpuDecodeAttention } from './webgpu-decode-attention.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuAttention();
});
afterAll(() => disableWebgpuAttention());

interface DecodeCase {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Keys of each cache block. */
  blocks: number[];
  /** Per row: how many keys at the start are hidden (left padding), or `window`: only the last keys are seen. */
  mask?: 'none' | 'left-padding' | 'sliding-window' | 'shared';
  /** What a hidden key's mask holds (default tsformer's finite `MASKED_SCORE`; a caller's mask may hold -Infinity). */
  hiddenScore?: number;
  softcap?: number;
  scale?: number;
}

const cases: DecodeCase[] = [
  { batch: 1, heads: 1, kvHeads: 1, headDim: 5, blocks: [1] },
  { batch: 1, heads: 4, kvHeads: 1, headDim: 24, blocks: [7] },
  { batch: 2, heads: 6, kvHeads: 2, headDim: 64, blocks: [64, 64, 17], mask: 'left-padding' },
  { batch: 3, heads: 3, kvHeads: 3, headDim: 80, blocks: [130], mask: 'left-padding' },
  { batch: 2, heads: 8, kvHeads: 4, headDim: 33, blocks: [64, 64, 64, 64, 64, 3], mask: 'sliding-window' },
  { batch: 1, heads: 2, kvHeads: 1, headDim: 16, blocks: [200, 64, 1], mask: 'shared' },
  // Whole 64-key chunks hidden by -Infinity: their chunk max must not turn the row into NaN.
  {
    batch: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 16,
    blocks: [200, 64, 1],
    mask: 'shared',
    hiddenScore: -Infinity,
  },
  {
    batch: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 256,
    blocks: [65, 2],
    mask: 'left-padding',
    softcap: 2,
    scale: 0.5,
  },
  { batch: 1, heads: 5, kvHeads: 5, headDim: 7, blocks: [64, 64, 64, 64, 64, 64, 64, 64, 64], softcap: 30 },
  // Past 16 chunks of 64 keys: one workgroup per chunk, then the reduce pass (fewer: one pass).
  { batch: 2, heads: 2, kvHeads: 1, headDim: 20, blocks: [1100, 3], mask: 'left-padding' },
];

/** The additive mask `[batch or 1, 1, 1, keyLength]` a decode step of `testCase` gets. */
function maskFor(testCase: DecodeCase, keyLength: number): tf.Tensor4D | null {
  const { batch, mask = 'none' } = testCase;
  if (mask === 'none') return null;
  const rows = mask === 'shared' ? 1 : batch;
  const values = new Float32Array(rows * keyLength);
  for (let row = 0; row < rows; row++) {
    const hidden =
      mask === 'sliding-window'
        ? keyLength - 37
        : mask === 'shared'
          ? 150
          : Math.min(keyLength - 1, 3 + 9 * row);
    for (let key = 0; key < hidden; key++)
      values[row * keyLength + key] = testCase.hiddenScore ?? MASKED_SCORE;
  }
  return tf.tensor4d(values, [rows, 1, 1, keyLength]);
}

/** Decode attention in float64: `softmax(cap(q·k · scale) + mask) · v` per row and query head. */
function attentionFloat64(
  testCase: DecodeCase,
  query: Float32Array,
  keys: Float32Array[],
  values: Float32Array[],
  mask: Float32Array | null,
): Float64Array {
  const { batch, heads, kvHeads, headDim, blocks } = testCase;
  const keyLength = blocks.reduce((total, length) => total + length, 0);
  const scale = testCase.scale ?? 1 / Math.sqrt(headDim);
  const maskRows = mask ? mask.length / keyLength : 0;
  const output = new Float64Array(batch * heads * headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const rows: { key: number; value: Float32Array; at: number }[] = [];
      let key = 0;
      blocks.forEach((length, block) => {
        for (let j = 0; j < length; j++) {
          rows.push({ key, value: values[block]!, at: ((b * kvHeads + g) * length + j) * headDim });
          key += 1;
        }
      });
      const scores = rows.map(({ key: index, at }, row) => {
        const block = blocks.findIndex((_, candidate) => rowsBefore(blocks, candidate + 1) > row);
        let dot = 0;
        for (let d = 0; d < headDim; d++)
          dot += query[(b * heads + h) * headDim + d]! * keys[block]![at + d]!;
        let score = dot * scale;
        if (testCase.softcap) score = Math.tanh(score / testCase.softcap) * testCase.softcap;
        if (mask) score += mask[(maskRows === 1 ? 0 : b) * keyLength + index]!;
        return score;
      });
      const largest = Math.max(...scores);
      const weights = scores.map((score) => Math.exp(score - largest));
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      for (let d = 0; d < headDim; d++) {
        let sum = 0;
        rows.forEach(({ value, at }, row) => {
          sum += (weights[row]! / total) * value[at + d]!;
        });
        output[(b * heads + h) * headDim + d] = sum;
      }
    }
  }
  return output;
}

/** Keys in the first `count` blocks. */
function rowsBefore(blocks: readonly number[], count: number): number {
  return blocks.slice(0, count).reduce((total, length) => total + length, 0);
}

function describeCase(testCase: DecodeCase): string {
  const { batch, heads, kvHeads, headDim, blocks, mask = 'none', softcap, hiddenScore } = testCase;
  const hidden = hiddenScore === undefined ? '' : ` (hidden: ${hiddenScore})`;
  return `batch ${batch}, heads ${heads}/${kvHeads}, headDim ${headDim}, blocks [${blocks}], mask ${mask}${hidden}, softcap ${softcap ?? 'none'}`;
}

describe('decodeAttention on webgpu (decodeAttentionPartialKernel + decodeAttentionReduceKernel)', () => {
  it.each(cases.map((testCase) => [describeCase(testCase), testCase] as const))(
    '%s: within 1e-5 of float64 and of the portable (eager) attention',
    async (_, testCase) => {
      await expectNoLeak(async () => {
        const { batch, heads, kvHeads, headDim, blocks } = testCase;
        const random = new SeededRandom(batch * 1000 + heads * 100 + headDim);
        const queryValues = random.normalArray(batch * heads * headDim, 1);
        const keyValues = blocks.map((length) => random.normalArray(batch * kvHeads * length * headDim, 1));
        const valueValues = blocks.map((length) => random.normalArray(batch * kvHeads * length * headDim, 1));
        const query = tf.tensor4d(queryValues, [batch, heads, 1, headDim]);
        const keys = blocks.map((length, block) =>
          tf.tensor4d(keyValues[block]!, [batch, kvHeads, length, headDim]),
        );
        const values = blocks.map((length, block) =>
          tf.tensor4d(valueValues[block]!, [batch, kvHeads, length, headDim]),
        );
        const keyLength = blocks.reduce((total, length) => total + length, 0);
        const mask = maskFor(testCase, keyLength);
        const input: AttentionInput = {
          query,
          keyValues: { keys, values, keyStart: 0, keyLength },
          mask,
          scale: testCase.scale,
          softcap: testCase.softcap,
        };

        const fast = webgpuDecodeAttention(input);
        expect(fast).toBeDefined();
        expect(fast!.output.shape).toEqual([batch, heads, 1, headDim]);
        const actual = await fast!.output.data();
        const reference = attentionFloat64(
          testCase,
          queryValues,
          keyValues,
          valueValues,
          mask ? ((await mask.data()) as Float32Array) : null,
        );
        for (let i = 0; i < reference.length; i++) {
          expect(Math.abs(actual[i]! - reference[i]!), `element ${i}`).toBeLessThan(1e-5);
        }
        // tfjs-webgpu's addN binds every block at once: past the device's storage-buffer limit the
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

  it('scores up to 1024 keys in one dispatch, and more in one per group of blocks plus the reduce', async () => {
    await expectNoLeak(async () => {
      for (const [length, dispatches] of [
        [1024, 1],
        [1025, 2],
      ] as const) {
        const query = tf.ones([1, 2, 1, 8]) as tf.Tensor4D;
        const key = tf.ones([1, 1, length, 8]) as tf.Tensor4D;
        const keyValues = { keys: [key], values: [key], keyStart: 0, keyLength: length };
        const before = fastDispatchStats().dispatches;
        const { output } = webgpuDecodeAttention({ query, keyValues })!;
        expect(fastDispatchStats().dispatches - before, `${length} keys`).toBe(dispatches);
        // Equal scores over value rows of ones: ones.
        expect(Array.from(await output.data())).toEqual(new Array(16).fill(1));
        tf.dispose([query, key, output]);
      }
    });
  });

  it('serves the registered op for a decode step and leaves prefill, attention maps and position biases to the portable one', async () => {
    await expectNoLeak(async () => {
      const query = tf.ones([1, 2, 1, 4]) as tf.Tensor4D;
      const prefillQuery = tf.ones([1, 2, 3, 4]) as tf.Tensor4D;
      const key = tf.tensor4d([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 1, 3, 4]);
      const value = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4]);
      const keyValues = { keys: [key], values: [value], keyStart: 0, keyLength: 3 };
      const bias = tf.zeros([1, 2, 1, 3]) as tf.Tensor4D;
      expect(webgpuDecodeAttention({ query: prefillQuery, keyValues })).toBeUndefined();
      expect(webgpuDecodeAttention({ query, keyValues, outputAttentions: true })).toBeUndefined();
      expect(webgpuDecodeAttention({ query, keyValues, positionBias: bias })).toBeUndefined();
      // Equal scores: the mean of the three value rows, for both heads.
      const { output } = decodeAttention({ query, keyValues, scale: 1 });
      expect(Array.from(await output.data())).toEqual([5, 6, 7, 8, 5, 6, 7, 8]);
      tf.dispose([query, prefillQuery, key, value, bias, output]);
    });
  });
});
