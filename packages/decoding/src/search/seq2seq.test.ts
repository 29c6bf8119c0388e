import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { exhaustiveHypotheses, greedyReference } from '../../test/reference-search.js';
import { referenceLogits, ToySeq2SeqLM, toyTables } from '../../test/toy-models.js';
import { GenerationConfigError } from '../errors.js';
import { generateAll } from '../generate.js';

const VOCAB = 12;
const EOS = 11;
const PAD = 10;
const START = 0;
const tables = toyTables(VOCAB, 3);
const model = () =>
  new ToySeq2SeqLM(tables, { eosTokenId: EOS, padTokenId: PAD, decoderStartTokenId: START });
const sourceSum = (source: readonly number[]) => source.reduce((sum, id) => sum + id + 1, 0);

describe('generate with an encoder-decoder model', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('greedy search starts from the decoder start token and follows the argmax', async () => {
    await expectNoLeak(async () => {
      for (const source of [[3, 1, 4, 1, 5], [9], [2, 6, 5, 3]]) {
        const reference = (tokens: readonly number[]) =>
          referenceLogits(tables, tokens, undefined, sourceSum(source));
        const { sequences } = await generateAll(model(), { inputIds: [source] }, { maxNewTokens: 10 });
        expect(sequences).toEqual([[START, ...greedyReference(reference, [START], 10, [EOS])]]);
      }
    });
  });

  it('generates for a right-padded batch of sources exactly as for each source alone', async () => {
    await expectNoLeak(async () => {
      const sources = [[3, 1, 4, 1, 5], [9], [2, 6, 5, 3]];
      const inputIds = sources.map((s) => [...s, ...new Array<number>(5 - s.length).fill(PAD)]);
      const attentionMask = sources.map((s) => [
        ...s.map(() => 1),
        ...new Array<number>(5 - s.length).fill(0),
      ]);
      for (const options of [{ maxNewTokens: 8 }, { maxNewTokens: 8, numBeams: 3, numReturnSequences: 2 }]) {
        const batch = await generateAll(model(), { inputIds, attentionMask }, options);
        const perRow = batch.sequences.length / sources.length;
        for (const [b, source] of sources.entries()) {
          const alone = await generateAll(model(), { inputIds: [source] }, options);
          alone.sequences.forEach((row, r) => {
            const batchRow = batch.sequences[b * perRow + r]!;
            expect(batchRow.slice(0, row.length)).toEqual(row);
            expect(batchRow.slice(row.length).every((token) => token === PAD)).toBe(true);
          });
        }
      }
    });
  });

  it('beam search with every prefix kept returns the exhaustive best hypotheses', async () => {
    await expectNoLeak(async () => {
      const smallTables = toyTables(4, 8, 1);
      const source = [2, 1, 2];
      const reference = (tokens: readonly number[]) =>
        referenceLogits(smallTables, tokens, undefined, sourceSum(source));
      const best = exhaustiveHypotheses(reference, [START], 3, [3], 1).slice(0, 3);
      const output = await generateAll(
        new ToySeq2SeqLM(smallTables, { eosTokenId: 3, decoderStartTokenId: START }),
        { inputIds: [source] },
        { numBeams: 36, numReturnSequences: 3, maxNewTokens: 3, earlyStopping: 'never' },
      );
      expect(output.sequences).toEqual(
        best.map(({ tokens }) => [...tokens, ...new Array<number>(4 - tokens.length).fill(3)]),
      );
      output.sequencesScores!.forEach((score, i) => {
        expect(score).toBeCloseTo(best[i]!.score, 4);
      });
    });
  });

  it('gives the same output without the cache', async () => {
    await expectNoLeak(async () => {
      const inputs = {
        inputIds: [
          [3, 1, 4],
          [2, 7, PAD],
        ],
        attentionMask: [
          [1, 1, 1],
          [1, 1, 0],
        ],
      };
      for (const options of [
        { maxNewTokens: 8 },
        { maxNewTokens: 8, numBeams: 4 },
        { maxNewTokens: 8, doSample: true, seed: 5 },
      ]) {
        const withCache = await generateAll(model(), inputs, options);
        expect(await generateAll(model(), inputs, { ...options, useCache: false })).toEqual(withCache);
      }
    });
  });

  it('forces the first and the last token, and bans n-grams of the source', async () => {
    await expectNoLeak(async () => {
      const forced = await generateAll(
        model(),
        { inputIds: [[3, 1, 4]] },
        {
          maxNewTokens: 6,
          forcedBosTokenId: 7,
          forcedEosTokenId: EOS,
          eosTokenId: null,
        },
      );
      expect(forced.sequences[0]![1]).toBe(7);
      expect(forced.sequences[0]).toHaveLength(7);
      expect(forced.sequences[0]![6]).toBe(EOS);
      const source = [3, 1, 4, 2, 6];
      const banned = await generateAll(
        model(),
        { inputIds: [source] },
        { maxNewTokens: 8, encoderNoRepeatNgramSize: 1 },
      );
      expect(banned.sequences[0]!.slice(1).some((token) => source.includes(token))).toBe(false);
    });
  });

  it('needs a decoder start token', async () => {
    const error = await generateAll(new ToySeq2SeqLM(tables), { inputIds: [[1, 2]] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GenerationConfigError);
    expect((error as GenerationConfigError).field).toBe('decoderStartTokenId');
  });
});
