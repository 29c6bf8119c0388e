// T5's relative position buckets against values worked out by hand from HF's
// `_relative_position_bucket`, and against the same formula in float64 over wide ranges; the bias
// table's rows for new queries over a cache are the last rows of the whole sequence's bias.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  RelativeAttentionBias,
  type RelativeBucketing,
  relativePositionBucket,
} from './t5-relative-position.js';

const ENCODER: RelativeBucketing = { bidirectional: true, numBuckets: 32, maxDistance: 128 };
const DECODER: RelativeBucketing = { bidirectional: false, numBuckets: 32, maxDistance: 128 };

/** The formula in float64 (the real-number bucket, truncated). */
function float64Bucket(
  relative: number,
  { bidirectional, numBuckets, maxDistance }: RelativeBucketing,
): number {
  const buckets = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
  const side = bidirectional && relative > 0 ? buckets : 0;
  const distance = bidirectional ? Math.abs(relative) : Math.max(-relative, 0);
  const exact = Math.floor(buckets / 2);
  if (distance < exact) return side + distance;
  const log = (Math.log(distance / exact) / Math.log(maxDistance / exact)) * (buckets - exact);
  return side + Math.min(exact + Math.floor(log), buckets - 1);
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('relativePositionBucket', () => {
  it('gives t5-small’s encoder buckets (key − query; keys after the query in the upper half)', () => {
    const cases: [number, number][] = [
      [0, 0],
      [-1, 1],
      [-7, 7],
      [-8, 8],
      [-15, 9], // 8 + ⌊8·log(15/8)/log 16⌋ = 8 + ⌊1.81⌋
      [-16, 10], // 8 + 8·log 2/log 16 = exactly 10: float32 rounding must not make it 9
      [-32, 12],
      [-63, 13],
      [-64, 14],
      [-127, 15],
      [-128, 15],
      [-5000, 15],
      [1, 17],
      [16, 26],
      [64, 30],
      [5000, 31],
    ];
    expect(cases.map(([relative]) => relativePositionBucket(relative, ENCODER))).toEqual(
      cases.map(([, bucket]) => bucket),
    );
  });

  it('gives t5-small’s decoder buckets (keys after the query, which the causal mask hides, share bucket 0)', () => {
    const cases: [number, number][] = [
      [5, 0],
      [0, 0],
      [-15, 15],
      [-16, 16],
      [-127, 31], // 16 + ⌊16·log(127/16)/log 8⌋ = 16 + ⌊15.94⌋
      [-128, 31],
      [-5000, 31],
    ];
    expect(cases.map(([relative]) => relativePositionBucket(relative, DECODER))).toEqual(
      cases.map(([, bucket]) => bucket),
    );
  });

  it.each([
    ENCODER,
    DECODER,
    { bidirectional: true, numBuckets: 8, maxDistance: 20 },
    { bidirectional: false, numBuckets: 8, maxDistance: 20 },
    { bidirectional: true, numBuckets: 64, maxDistance: 256 },
  ])('agrees with the float64 formula from −600 to 600 (%o)', (bucketing) => {
    for (let relative = -600; relative <= 600; relative++) {
      expect([relative, relativePositionBucket(relative, bucketing)]).toEqual([
        relative,
        float64Bucket(relative, bucketing),
      ]);
    }
  });
});

describe('relativePositionBucket in float32 steps', () => {
  it('rounds each step to float32 as PyTorch does, where float64 falls just short of a whole bucket', () => {
    // 3 buckets a side, 1 exact; distance 3: log(3) / log(9) · 2 is exactly 1 in float32 (bucket 1 + 1)
    // but 0.9999999999999999 in float64 (bucket 1 + 0).
    const bucketing = { bidirectional: true, numBuckets: 7, maxDistance: 9 };
    expect(float64Bucket(-3, bucketing)).toBe(1);
    expect(relativePositionBucket(-3, bucketing)).toBe(2);
    expect(relativePositionBucket(3, bucketing)).toBe(5);
  });
});

describe('RelativeAttentionBias', () => {
  const heads = 3;
  const bucketing: RelativeBucketing = { bidirectional: false, numBuckets: 8, maxDistance: 10 };

  it('looks up [1, heads, queries, keys] from the table by bucket', async () => {
    await expectNoLeak(() => {
      const table = new RelativeAttentionBias(heads, bucketing);
      const values = Array.from({ length: 8 * heads }, (_, i) => i / 8);
      table.weight.assign(tf.tensor2d(values, [8, heads]));
      const bias = table.bias(0, 4, 0, 14);
      expect(bias.shape).toEqual([1, heads, 4, 14]);
      const expected = [];
      for (let h = 0; h < heads; h++) {
        for (let q = 0; q < 4; q++) {
          for (let k = 0; k < 14; k++)
            expected.push(values[relativePositionBucket(k - q, bucketing) * heads + h]!);
        }
      }
      assertClose(bias, expected, 0, 'bias');
      tf.dispose(bias);
      table.dispose();
    });
  });

  it('gives new queries over a cache (and a static cache’s unwritten slots) the rows a whole forward gives them', async () => {
    await expectNoLeak(() => {
      const table = new RelativeAttentionBias(heads, bucketing);
      table.weight.assign(tf.randomNormal([8, heads], 0, 1, 'float32', 3));
      const whole = table.bias(0, 20, 0, 20);
      const step = table.bias(13, 2, 0, 20); // queries 13 and 14 over 20 slots
      const rows = tf.slice(whole, [0, 0, 13, 0], [1, heads, 2, 20]);
      assertClose(step, rows, 0, 'new rows');
      tf.dispose([whole, step, rows]);
      table.dispose();
    });
  });
});
