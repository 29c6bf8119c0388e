import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { PresenceFrequencyPenaltyProcessor } from './openai-penalties.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('PresenceFrequencyPenaltyProcessor', () => {
  it('subtracts count × frequency + presence for tokens generated so far, leaving the prompt and the input alone', async () => {
    await expectNoLeak(async () => {
      const scores = [
        [1, 2, 3, 4, 5],
        [0.5, -1, 0, 2, 1],
      ];
      const input = tf.tensor2d(scores);
      // Prompt of 2 tokens: token 4 in the prompt does not count.
      const rows = [
        [4, 4, 1, 1, 3],
        [4, 0, 2],
      ];
      const processor = new PresenceFrequencyPenaltyProcessor(2, 0.5, 0.25);
      const output = tf.tidy(() => processor.process(rows, input));
      const expected = scores.map((row, r) =>
        row.map((score, token) => {
          const count = rows[r]!.slice(2).filter((id) => id === token).length;
          return score - count * 0.25 - (count > 0 ? 0.5 : 0);
        }),
      );
      const got = (await output.array()) as number[][];
      got.forEach((row, r) => {
        row.forEach((value, token) => {
          expect(value).toBeCloseTo(expected[r]![token]!, 6);
        });
      });
      expect(await input.array()).toEqual(scores);
      tf.dispose([input, output]);
    });
  });
});
