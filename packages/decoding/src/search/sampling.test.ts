import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { drawIndices, sampleTokens, sampleWithoutReplacement } from './sampling.js';

describe('sampling from scores with given uniforms', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('draws by inverse CDF and never draws a token of probability 0', async () => {
    await expectNoLeak(() => {
      const probabilities = [[0, 0.25, 0, 0.5, 0.25, 0]];
      const draw = (u: number) =>
        tf.tidy(() => drawIndices(tf.tensor2d(probabilities), tf.tensor2d([[u]])).dataSync()[0]);
      expect([0, 0.1, 0.25, 0.3, 0.74, 0.75, 0.9, 1 - 2 ** -32, 1].map(draw)).toEqual([
        1, 1, 3, 3, 3, 4, 4, 4, 4,
      ]);
    });
  });

  it('follows softmax(scores): frequencies over many seeded draws match the probabilities', async () => {
    await expectNoLeak(() => {
      const scores = [0.5, -1, 2, 0, -3];
      const draws = 20000;
      const random = new SeededRandom(1);
      const uniforms = Array.from({ length: draws }, () => [random.uniform()]);
      const tokens = tf.tidy(() =>
        Array.from(
          sampleTokens(
            tf.tensor2d(Array.from({ length: draws }, () => scores)),
            tf.tensor2d(uniforms),
          ).dataSync(),
        ),
      );
      const total = scores.reduce((sum, s) => sum + Math.exp(s), 0);
      scores.forEach((score, token) => {
        const frequency = tokens.filter((t) => t === token).length / draws;
        expect(Math.abs(frequency - Math.exp(score) / total)).toBeLessThan(0.01);
      });
    });
  });

  it('samples distinct indices without replacement', async () => {
    await expectNoLeak(() => {
      const random = new SeededRandom(4);
      const scores = tf.tensor2d([
        [1, 0.5, 0, -0.5, -1, -Infinity],
        [0, 0, 0, 0, 0, 0],
      ]);
      for (let trial = 0; trial < 20; trial++) {
        const uniforms = [0, 1].map(() => Array.from({ length: 5 }, () => random.uniform()));
        const picks = tf.tidy(() => sampleWithoutReplacement(scores, tf.tensor2d(uniforms)).arraySync());
        for (const row of picks) expect(new Set(row).size).toBe(5);
        expect(picks[0]).not.toContain(5);
      }
      scores.dispose();
    });
  });
});
