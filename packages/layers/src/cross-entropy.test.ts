import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy } from './cross-entropy.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** float64 reference: mean of logsumexp(row) - row[label] over labels that are not -100. */
function reference(logits: number[][], labels: number[]): number {
  let total = 0;
  let count = 0;
  for (const [i, row] of logits.entries()) {
    if (labels[i] === -100) continue;
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
    total += logSum - row[labels[i]!]!;
    count++;
  }
  return total / count;
}

describe('crossEntropy', () => {
  it('is the mean over counted labels, -100 skipped, as F.cross_entropy (float64 check)', async () => {
    await expectNoLeak(() => {
      const rows = [
        [1, 2, 3, 4],
        [100, -50, 3, 99.5],
        [0.5, 0.1, -1, 0],
      ];
      const labels = [3, 0, -100];
      const inputs = [tf.tensor2d(rows), tf.tensor1d(labels, 'int32')] as const;
      const loss = crossEntropy(...inputs);
      expect(loss.dataSync()[0]).toBeCloseTo(reference(rows, labels), 5);
      tf.dispose([loss, ...inputs]);
    });
  });

  it('rejects labels that are not int32 [tokens]', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    const labels = tf.tensor1d([1, 2, 0]) as tf.Tensor1D;
    expect(() => crossEntropy(logits, labels)).toThrow(/int32 labels \[tokens=2\]/);
    tf.dispose([logits, labels]);
  });
});
