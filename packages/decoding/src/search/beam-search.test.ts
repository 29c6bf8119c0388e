import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { exhaustiveHypotheses } from '../../test/reference-search.js';
import { logSoftmax, referenceLogits, ToyCausalLM, toyTables } from '../../test/toy-models.js';
import { generateAll } from '../generate.js';

const SMALL_VOCAB = 4;
const SMALL_EOS = 3;
const small = toyTables(SMALL_VOCAB, 5, 1);
const VOCAB = 12;
const EOS = 11;
const PAD = 10;
const large = toyTables(VOCAB, 1);

describe('beam search', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('with beams enough to keep every prefix, returns the exhaustive search best hypotheses and scores', async () => {
    await expectNoLeak(async () => {
      const prompt = [2, 0];
      const reference = (tokens: readonly number[]) => referenceLogits(small, tokens);
      for (const [lengthPenalty, earlyStopping] of [
        [1, 'never'],
        [0, true],
        [2, false],
        [-0.5, 'never'],
      ] as const) {
        const best = exhaustiveHypotheses(reference, prompt, 3, [SMALL_EOS], lengthPenalty).slice(0, 4);
        const output = await generateAll(
          new ToyCausalLM(small, { eosTokenId: SMALL_EOS }),
          { inputIds: [prompt] },
          { numBeams: 36, numReturnSequences: 4, maxNewTokens: 3, lengthPenalty, earlyStopping },
        );
        const padded = best.map(({ tokens }) => [
          ...tokens,
          ...new Array<number>(5 - tokens.length).fill(SMALL_EOS),
        ]);
        expect(output.sequences).toEqual(padded);
        output.sequencesScores!.forEach((score, i) => {
          expect(score).toBeCloseTo(best[i]!.score, 4);
        });
      }
    });
  });

  it('scores each returned hypothesis as its log-probability over its length to the length penalty', async () => {
    await expectNoLeak(async () => {
      const prompt = [3, 1, 4];
      const lengthPenalty = 0.6;
      const { sequences, sequencesScores } = await generateAll(
        new ToyCausalLM(large, { eosTokenId: EOS, padTokenId: PAD }),
        { inputIds: [prompt] },
        { numBeams: 3, numReturnSequences: 3, maxNewTokens: 10, lengthPenalty, earlyStopping: true },
      );
      sequences.forEach((row, i) => {
        const end = row.indexOf(EOS, prompt.length);
        const generated = row.slice(prompt.length, end < 0 ? row.length : end + 1);
        let logProb = 0;
        generated.forEach((token, t) => {
          logProb += logSoftmax(referenceLogits(large, [...prompt, ...generated.slice(0, t)]))[token]!;
        });
        expect(sequencesScores![i]).toBeCloseTo(logProb / generated.length ** lengthPenalty, 4);
      });
      expect(sequencesScores![0]).toBeGreaterThanOrEqual(sequencesScores![1]!);
      expect(sequencesScores![1]).toBeGreaterThanOrEqual(sequencesScores![2]!);
    });
  });

  it('searches a left-padded batch exactly as each prompt alone', async () => {
    await expectNoLeak(async () => {
      const prompts = [[3, 1, 4], [1, 5, 9, 2, 6], [7]];
      const inputIds = prompts.map((p) => [...new Array<number>(5 - p.length).fill(PAD), ...p]);
      const attentionMask = prompts.map((p) => [
        ...new Array<number>(5 - p.length).fill(0),
        ...p.map(() => 1),
      ]);
      const options = { numBeams: 3, numReturnSequences: 2, maxNewTokens: 8, noRepeatNgramSize: 2 };
      const batch = await generateAll(
        new ToyCausalLM(large, { eosTokenId: EOS }),
        { inputIds, attentionMask },
        options,
      );
      for (const [b, prompt] of prompts.entries()) {
        const alone = await generateAll(
          new ToyCausalLM(large, { eosTokenId: EOS }),
          { inputIds: [prompt] },
          options,
        );
        for (let r = 0; r < 2; r++) {
          const generated = alone.sequences[r]!.slice(prompt.length);
          expect(batch.sequences[b * 2 + r]!.slice(5, 5 + generated.length)).toEqual(generated);
          expect(batch.sequencesScores![b * 2 + r]).toBeCloseTo(alone.sequencesScores![r]!, 5);
        }
      }
    });
  });

  it('gives the same output without the cache, and reorders the cache every step with it', async () => {
    await expectNoLeak(async () => {
      const inputs = {
        inputIds: [
          [3, 1, 4],
          [2, 7, 1],
        ],
      };
      for (const options of [
        { numBeams: 4, maxNewTokens: 9 },
        { numBeams: 3, doSample: true, seed: 11, maxNewTokens: 9, numReturnSequences: 3 },
      ]) {
        const cached = new ToyCausalLM(large, { eosTokenId: EOS });
        const withCache = await generateAll(cached, inputs, options);
        const without = await generateAll(new ToyCausalLM(large, { eosTokenId: EOS }), inputs, {
          ...options,
          useCache: false,
        });
        expect(without).toEqual(withCache);
        expect(cached.lastCache!.reorders).toBe(cached.forwardCalls);
      }
    });
  });

  it('samples beams reproducibly from a seed, each scored as the hypothesis it returns', async () => {
    await expectNoLeak(async () => {
      const prompt = [2, 0];
      const reference = (tokens: readonly number[]) => referenceLogits(small, tokens);
      const scoreOf = new Map(
        exhaustiveHypotheses(reference, prompt, 3, [SMALL_EOS], 1).map(({ tokens, score }) => [
          tokens.join(),
          score,
        ]),
      );
      const outputs = new Set<string>();
      for (const seed of [1, 2, 3, 4]) {
        const run = () =>
          generateAll(
            new ToyCausalLM(small, { eosTokenId: SMALL_EOS }),
            { inputIds: [prompt] },
            {
              numBeams: 2,
              doSample: true,
              seed,
              maxNewTokens: 3,
              numReturnSequences: 2,
            },
          );
        const output = await run();
        expect(await run()).toEqual(output);
        output.sequences.forEach((row, i) => {
          const end = row.indexOf(SMALL_EOS, 2);
          const hypothesis = row.slice(0, end < 0 ? row.length : end + 1);
          expect(output.sequencesScores![i]).toBeCloseTo(scoreOf.get(hypothesis.join())!, 4);
        });
        outputs.add(JSON.stringify(output.sequences));
      }
      expect(outputs.size).toBeGreaterThan(1);
    });
  });

  it('streams each returned hypothesis once, at the end', async () => {
    await expectNoLeak(async () => {
      const { generate } = await import('../generate.js');
      const steps = [];
      for await (const step of generate(
        new ToyCausalLM(large, { eosTokenId: EOS }),
        { inputIds: [[3, 1, 4]] },
        {
          numBeams: 3,
          numReturnSequences: 2,
          maxNewTokens: 6,
        },
      )) {
        steps.push(step);
      }
      expect(steps).toHaveLength(1);
      expect(steps[0]!.newTokens).toHaveLength(2);
      expect(steps[0]!.finished).toEqual([true, true]);
    });
  });
});
