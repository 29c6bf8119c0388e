import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { SeededRandom } from './random.js';
import { expectNoLeak } from './testing/index.js';

/** `torch.finfo(torch.float32).min`, what a masked score gets (attention's MASKED_SCORE). */
const MASKED = -3.4028234663852886e38;

/** Softmax of one row in float64, the way PyTorch defines a fully masked row: uniform. */
function softmaxRow(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

beforeAll(async () => {
  await useBackend('webgpu');
});

describe('softmax on webgpu', () => {
  it.each([1, 3, 65, 4097])(
    'matches float64 on rows of %i columns, fully masked rows uniform',
    async (columns) => {
      await expectNoLeak(async () => {
        const random = new SeededRandom(columns);
        const rows = [
          Array.from(random.normalArray(columns, 3)),
          new Array(columns).fill(MASKED),
          Array.from(random.normalArray(columns, 1), (x, i) => (i % 2 === 0 ? MASKED : x)),
        ];
        const logits = tf.tensor3d(rows.flat(), [1, rows.length, columns]);
        const probabilities = tf.softmax(logits);
        const actual = await probabilities.data();
        tf.dispose([logits, probabilities]);
        const expected = rows.flatMap(softmaxRow);
        for (let i = 0; i < expected.length; i++) {
          expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThan(1e-6);
        }
      });
    },
  );
});
