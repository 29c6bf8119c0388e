import { describe, expect, it } from 'vitest';
import { GenerationConfigError } from '../errors.js';
import {
  cacheImplementation,
  earlyStopping,
  exponentialDecay,
  type FieldName,
  integerAtLeast,
  numberInRange,
  positiveNumber,
  sequenceBias,
  stopStrings,
  tokenIdLists,
  tokenIdOrIds,
} from './field-readers.js';

const topP: FieldName = { option: 'topP', hf: 'top_p' };

describe('generation field readers (on the config-field kit)', () => {
  it('name the option both ways', () => {
    const read = numberInRange(0, 1, { min: true });
    expect(() => read(1.5, topP)).toThrow(
      new GenerationConfigError('topP', '`topP` (top_p) must be a number in (0, 1], got 1.5'),
    );
    expect(() => integerAtLeast(1)(2 ** 64, topP)).toThrow(
      'must be an integer >= 1, got 1.8446744073709552e+19',
    );
    expect(() => positiveNumber(Number.NaN, topP)).toThrow('must be a positive number, got NaN');
    expect(() => cacheImplementation('paged', topP)).toThrow('must be "dynamic" or "static", got "paged"');
    for (const alias of ['hybrid', 'hybrid_chunked', 'sliding_window']) {
      expect(cacheImplementation(alias, topP)).toBe('static'); // HF 5's deprecated names of a static cache
    }
    expect(cacheImplementation('dynamic', topP)).toBe('dynamic');
    expect(earlyStopping('never', topP)).toBe('never');
    expect(() => earlyStopping('always', topP)).toThrow('must be true, false or "never"');
  });

  it('normalise single values to lists and return copies', () => {
    expect(tokenIdOrIds(3, topP)).toEqual([3]);
    expect(stopStrings('END', topP)).toEqual(['END']);
    const lists = [[1, 2], [3]];
    const read = tokenIdLists(lists, topP);
    expect(read).toEqual(lists);
    expect(read[0]).not.toBe(lists[0]);
    const bias: [number[], number][] = [[[1], Number.NEGATIVE_INFINITY]];
    expect(sequenceBias(bias, topP)).toEqual(bias);
    expect(exponentialDecay([5, 1.5], topP)).toEqual([5, 1.5]);
  });

  it('refuse the wrong shapes', () => {
    expect(() => tokenIdOrIds([], topP)).toThrow('a token id or a non-empty list of token ids, got []');
    expect(() => stopStrings([''], topP)).toThrow(GenerationConfigError);
    expect(() => tokenIdLists([[]], topP)).toThrow(GenerationConfigError);
    expect(() => sequenceBias([[[1], Number.NaN]], topP)).toThrow('[token ids, bias] pairs');
    expect(() => exponentialDecay([5, 1.5, 2], topP)).toThrow('a pair [startIndex');
    expect(() => exponentialDecay([-1, 1.5], topP)).toThrow(GenerationConfigError);
  });
});
