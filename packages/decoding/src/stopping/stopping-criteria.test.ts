import { describe, expect, it } from 'vitest';
import { ByteDecoder } from '../../test/toy-models.js';
import { resolveGenerationConfig } from '../config/generation-config.js';
import { GenerationConfigError } from '../errors.js';
import { buildStoppingCriteria } from './build-stopping-criteria.js';
import { EosTokenCriteria } from './eos-token.js';
import { MaxLengthCriteria } from './max-length.js';
import { MaxTimeCriteria } from './max-time.js';
import { StopStringCriteria } from './stop-string.js';
import { anyCriterionDone, type StoppingCriterion } from './stopping-criterion.js';

const letters = new ByteDecoder(Array.from({ length: 26 }, (_, i) => [97 + i]));

describe('stopping criteria', () => {
  it('stop at the maximum length, at EOS, after the time limit, at a stop string', () => {
    expect(
      new MaxLengthCriteria(3).isDone([
        [1, 2],
        [1, 2, 3],
      ]),
    ).toEqual([false, true]);
    expect(new EosTokenCriteria([4, 7]).isDone([[1, 7], [7, 1], [4]])).toEqual([true, false, true]);
    let now = 0;
    const maxTime = new MaxTimeCriteria(1, () => now);
    now = 1000;
    expect(maxTime.isDone([[1]])).toEqual([false]);
    now = 1001;
    expect(maxTime.isDone([[1], [2]])).toEqual([true, true]);
    // Prompt "ab"; continuations "cd" / "xcd" end with "cd"; "bc" spans the prompt and does not count.
    const stop = new StopStringCriteria(['cd', 'bc'], letters, 2);
    expect(
      stop.isDone([
        [0, 1, 2, 3],
        [0, 1, 23, 2, 3],
        [0, 1, 2],
        [0, 1, 3, 2],
      ]),
    ).toEqual([true, true, false, false]);
  });

  it('combine as any-of, in Hugging Face order, with a custom criterion replacing a built-in one', () => {
    const config = resolveGenerationConfig({ eosTokenId: 2, maxTime: 5, stopStrings: 'x' });
    const context = { maxLength: 9, promptLength: 1, tokenDecoder: letters, clock: () => 0 };
    const built = buildStoppingCriteria(config, context);
    expect(built.map((criterion) => criterion.constructor)).toEqual([
      MaxLengthCriteria,
      MaxTimeCriteria,
      StopStringCriteria,
      EosTokenCriteria,
    ]);
    const custom: StoppingCriterion = { isDone: (rows) => rows.map((row) => row.length === 2) };
    const shorter = new MaxLengthCriteria(3);
    const merged = buildStoppingCriteria(config, context, [shorter, custom]);
    expect(merged[0]).toBe(shorter);
    expect(merged.at(-1)).toBe(custom);
    expect(
      anyCriterionDone(merged, [
        [0, 1],
        [0, 2, 1],
        [5, 5, 5, 5, 5],
      ]),
    ).toEqual([true, true, true]);
    expect(anyCriterionDone(merged, [[0]])).toEqual([false]);
  });

  it('need a decoder for stop strings', () => {
    const config = resolveGenerationConfig({ stopStrings: ['x'] });
    expect(() =>
      buildStoppingCriteria(config, {
        maxLength: 9,
        promptLength: 1,
        tokenDecoder: undefined,
        clock: undefined,
      }),
    ).toThrow(GenerationConfigError);
  });
});
