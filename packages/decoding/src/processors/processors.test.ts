import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { GenerationConfigError } from '../errors.js';
import { EncoderNoRepeatNGramLogitsProcessor } from './encoder-no-repeat-ngram.js';
import { EncoderRepetitionPenaltyLogitsProcessor } from './encoder-repetition-penalty.js';
import { EpsilonLogitsWarper } from './epsilon.js';
import { EtaLogitsWarper } from './eta.js';
import { ExponentialDecayLengthPenalty } from './exponential-decay-length-penalty.js';
import { ForcedBOSTokenLogitsProcessor } from './forced-bos-token.js';
import { ForcedEOSTokenLogitsProcessor } from './forced-eos-token.js';
import { InfNanRemoveLogitsProcessor } from './inf-nan-remove.js';
import { LogitNormalization } from './logit-normalization.js';
import type { LogitsProcessor } from './logits-processor.js';
import { MinLengthLogitsProcessor } from './min-length.js';
import { MinNewTokensLengthLogitsProcessor } from './min-new-tokens.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoBadWordsLogitsProcessor } from './no-bad-words.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { SequenceBiasLogitsProcessor } from './sequence-bias.js';
import { SuppressTokensLogitsProcessor } from './suppress-tokens.js';
import { SuppressTokensAtBeginLogitsProcessor } from './suppress-tokens-at-begin.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';
import { TypicalLogitsWarper } from './typical.js';

const VOCAB = 8;
const SCORES = [
  [0.5, -1.25, 2, 0.25, -0.5, 1.5, -2, 0.75],
  [-0.5, 1, -1.5, 3, 0.125, -0.25, 2.5, -3],
];

/** Runs `processor` on SCORES (as float32) and returns the result as arrays; checks SCORES survive intact. */
function run(processor: LogitsProcessor, inputIds: number[][], scores: number[][] = SCORES): number[][] {
  const input = tf.tensor2d(scores, [scores.length, VOCAB], 'float32');
  try {
    const output = tf.tidy(() => processor.process(inputIds, input));
    const result = output.arraySync() as number[][];
    if (output !== input) output.dispose();
    const unchanged = Array.from(input.dataSync()).every((x, i) =>
      Object.is(x, Math.fround(scores.flat()[i]!)),
    );
    expect(unchanged).toBe(true);
    return result;
  } finally {
    input.dispose();
  }
}

/** SCORES with `value` at the listed [row, token] places. */
function withValue(places: [number, number][], value: number, scores = SCORES): number[][] {
  const copy = scores.map((row) => [...row]);
  for (const [row, token] of places) copy[row]![token] = value;
  return copy;
}

describe('logits processors', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('repetition penalty divides positive and multiplies negative scores of seen tokens, once each', async () => {
    await expectNoLeak(() => {
      const out = run(new RepetitionPenaltyLogitsProcessor(0.5), [
        [2, 2, 1],
        [3, 0, 0],
      ]);
      const expected = SCORES.map((row) => [...row]);
      expected[0]![2] = 2 / 0.5;
      expected[0]![1] = -1.25 * 0.5;
      expected[1]![3] = 3 / 0.5;
      expected[1]![0] = -0.5 * 0.5;
      assertClose(out.flat(), expected.flat(), 1e-6, 'repetition');
    });
  });

  it('encoder repetition penalty favours the tokens of the prompt each row continues', async () => {
    await expectNoLeak(() => {
      // Two hypotheses per prompt: rows 0-1 continue prompt 0, rows 2-3 prompt 1.
      const scores = [SCORES[0]!, SCORES[0]!, SCORES[1]!, SCORES[1]!];
      const out = run(
        new EncoderRepetitionPenaltyLogitsProcessor(2, [[2, 1], [3]]),
        [[0], [0], [0], [0]],
        scores,
      );
      const expected = scores.map((row) => [...row]);
      for (const r of [0, 1]) {
        expected[r]![2] = 2 * 2;
        expected[r]![1] = -1.25 / 2;
      }
      for (const r of [2, 3]) expected[r]![3] = 3 * 2;
      assertClose(out.flat(), expected.flat(), 1e-6, 'encoder repetition');
    });
  });

  it('no-repeat n-gram bans the tokens that would repeat an n-gram', async () => {
    await expectNoLeak(() => {
      // Row 0 ends with (1, 2): (1, 2) was followed by 3 and by 5 before. Row 1 has no repeated prefix.
      const out = run(new NoRepeatNGramLogitsProcessor(3), [
        [1, 2, 3, 1, 2, 5, 1, 2],
        [0, 1, 2, 3, 4, 5, 6, 7],
      ]);
      expect(out).toEqual(
        withValue(
          [
            [0, 3],
            [0, 5],
          ],
          -Infinity,
        ).map((row) => row.map(Math.fround)),
      );
      expect(
        run(new NoRepeatNGramLogitsProcessor(3), [
          [1, 2],
          [2, 1],
        ]),
      ).toEqual(SCORES);
      expect(
        run(new NoRepeatNGramLogitsProcessor(1), [
          [4, 4],
          [6, 1],
        ])[1]![6],
      ).toBe(-Infinity);
    });
  });

  it('encoder no-repeat n-gram bans completions of the source n-grams', async () => {
    await expectNoLeak(() => {
      const processor = new EncoderNoRepeatNGramLogitsProcessor(2, [
        [5, 6, 5, 7],
        [1, 2],
      ]);
      const out = run(processor, [
        [0, 5],
        [0, 5],
      ]);
      expect(out[0]![6]).toBe(-Infinity);
      expect(out[0]![7]).toBe(-Infinity);
      expect(out[1]).toEqual(SCORES[1]!.map(Math.fround));
    });
  });

  it('min length and min new tokens forbid EOS only while too short', async () => {
    await expectNoLeak(() => {
      expect(
        run(new MinLengthLogitsProcessor(3, [4, 6]), [
          [1, 2],
          [3, 4],
        ])[1]![6],
      ).toBe(-Infinity);
      expect(
        run(new MinLengthLogitsProcessor(3, 4), [
          [1, 2, 3],
          [3, 4, 5],
        ]),
      ).toEqual(SCORES);
      const minNew = new MinNewTokensLengthLogitsProcessor(2, 2, 5);
      expect(
        run(minNew, [
          [1, 2, 3],
          [1, 2, 3],
        ])[0]![5],
      ).toBe(-Infinity);
      expect(
        run(minNew, [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ]),
      ).toEqual(SCORES);
    });
  });

  it('suppresses tokens always, or only at the begin index', async () => {
    await expectNoLeak(() => {
      expect(run(new SuppressTokensLogitsProcessor([1, 7, 99]), [[0], [0]])).toEqual(
        withValue(
          [
            [0, 1],
            [0, 7],
            [1, 1],
            [1, 7],
          ],
          -Infinity,
        ),
      );
      const atBegin = new SuppressTokensAtBeginLogitsProcessor([2], 3);
      expect(
        run(atBegin, [
          [0, 0, 0],
          [0, 0, 0],
        ])[1]![2],
      ).toBe(-Infinity);
      expect(
        run(atBegin, [
          [0, 0],
          [0, 0],
        ]),
      ).toEqual(SCORES);
    });
  });

  it('bans bad words: single tokens always, longer ones when the row ends with their prefix', async () => {
    await expectNoLeak(() => {
      const processor = new NoBadWordsLogitsProcessor([[3], [1, 2, 5], [7]], [7]);
      const out = run(processor, [
        [0, 1, 2],
        [1, 2, 0],
      ]);
      expect(out).toEqual(
        withValue(
          [
            [0, 3],
            [1, 3],
            [0, 5],
          ],
          -Infinity,
        ).map((row) => row.map(Math.fround)),
      );
    });
  });

  it('sequence bias adds up matching biases and refuses ids outside the vocabulary', async () => {
    await expectNoLeak(() => {
      const processor = new SequenceBiasLogitsProcessor([
        [[4], 1],
        [[2, 4], 0.5],
        [[7, 4], 3],
      ]);
      const out = run(processor, [
        [1, 2],
        [2, 7],
      ]);
      expect(out[0]![4]).toBeCloseTo(-0.5 + 1.5, 6);
      expect(out[1]![4]).toBeCloseTo(0.125 + 4, 6);
      expect(() => run(new SequenceBiasLogitsProcessor([[[VOCAB], 1]]), [[0], [0]])).toThrow(
        GenerationConfigError,
      );
    });
  });

  it('forces BOS after the decoder start and EOS at the last step', async () => {
    await expectNoLeak(() => {
      const onlyAt = (token: number) =>
        Array.from({ length: VOCAB }, (_, v) => (v === token ? 0 : -Infinity));
      expect(run(new ForcedBOSTokenLogitsProcessor(6), [[0], [0]])).toEqual([onlyAt(6), onlyAt(6)]);
      expect(
        run(new ForcedBOSTokenLogitsProcessor(6), [
          [0, 6],
          [0, 6],
        ]),
      ).toEqual(SCORES);
      expect(
        run(new ForcedEOSTokenLogitsProcessor(4, 2), [
          [0, 1, 2],
          [0, 1, 2],
        ]),
      ).toEqual([onlyAt(2), onlyAt(2)]);
      expect(
        run(new ForcedEOSTokenLogitsProcessor(4, 2), [
          [0, 1],
          [0, 1],
        ]),
      ).toEqual(SCORES);
    });
  });

  it('exponential decay raises EOS by |score| × (factor^k − 1) after the start index', async () => {
    await expectNoLeak(() => {
      const processor = new ExponentialDecayLengthPenalty([1, 1.5], [1, 6], 2);
      expect(
        run(processor, [
          [0, 0, 0],
          [0, 0, 0],
        ]),
      ).toEqual(SCORES);
      const out = run(processor, [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ]);
      const growth = 1.5 ** 2 - 1;
      expect(out[0]![1]).toBeCloseTo(-1.25 + 1.25 * growth, 5);
      expect(out[1]![6]).toBeCloseTo(2.5 + 2.5 * growth, 5);
      expect(out[0]![0]).toBe(0.5);
    });
  });

  it('removes NaN and infinities, and renormalises to log-probabilities', async () => {
    await expectNoLeak(() => {
      const scores = [
        [Number.NaN, Infinity, -Infinity, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
      ];
      const cleaned = run(new InfNanRemoveLogitsProcessor(), [[0], [0]], scores);
      expect(cleaned[0]!.slice(0, 4)).toEqual([
        0,
        Math.fround(3.4028234663852886e38),
        -Math.fround(3.4028234663852886e38),
        1,
      ]);
      const normalised = run(new LogitNormalization(), [[0], [0]]);
      normalised.forEach((row) => {
        expect(row.reduce((sum, x) => sum + Math.exp(x), 0)).toBeCloseTo(1, 5);
      });
    });
  });

  it('keeps at least minTokensToKeep tokens in every warper', async () => {
    await expectNoLeak(() => {
      const kept = (processor: LogitsProcessor) =>
        run(processor, [[0], [0]]).map((row) => row.filter(Number.isFinite).length);
      expect(kept(new TopKLogitsWarper(1, 3))).toEqual([3, 3]);
      expect(kept(new TopPLogitsWarper(0.01, 2))).toEqual([2, 2]);
      expect(kept(new MinPLogitsWarper(1, 2))).toEqual([2, 2]);
      expect(kept(new TypicalLogitsWarper(0.01, 3))).toEqual([3, 3]);
      expect(kept(new EpsilonLogitsWarper(0.9, 2))).toEqual([2, 2]);
      expect(kept(new EtaLogitsWarper(0.9, 2))).toEqual([2, 2]);
      expect(kept(new TopKLogitsWarper(20))).toEqual([VOCAB, VOCAB]);
    });
  });

  it('validates their arguments with GenerationConfigError', () => {
    const construct = [
      () => new TemperatureLogitsWarper(0),
      () => new TopKLogitsWarper(0),
      () => new TopKLogitsWarper(2, 0),
      () => new TopPLogitsWarper(0),
      () => new TopPLogitsWarper(1.2),
      () => new MinPLogitsWarper(-0.1),
      () => new TypicalLogitsWarper(1),
      () => new EpsilonLogitsWarper(0),
      () => new EtaLogitsWarper(1),
      () => new RepetitionPenaltyLogitsProcessor(0),
      () => new EncoderRepetitionPenaltyLogitsProcessor(-1, [[1]]),
      () => new NoRepeatNGramLogitsProcessor(0),
      () => new EncoderNoRepeatNGramLogitsProcessor(1.5, [[1]]),
      () => new MinLengthLogitsProcessor(-1, 2),
      () => new MinNewTokensLengthLogitsProcessor(1, 2, []),
      () => new SuppressTokensLogitsProcessor([-1]),
      () => new SuppressTokensAtBeginLogitsProcessor([1], -1),
      () => new NoBadWordsLogitsProcessor([]),
      () => new SequenceBiasLogitsProcessor([[[1], Number.NaN]]),
      () => new ForcedBOSTokenLogitsProcessor(-1),
      () => new ForcedEOSTokenLogitsProcessor(0, 1),
      () => new ExponentialDecayLengthPenalty([1, Number.NaN], 1, 2),
    ];
    for (const make of construct) expect(make).toThrow(GenerationConfigError);
  });
});
