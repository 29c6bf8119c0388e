import { describe, expect, it } from 'vitest';
import { CONFIG_SIZE_LIMITS, ConfigFields, describeFieldValue, fieldRules } from './config-fields.js';
import { ConfigFieldError, TsformerError } from './errors.js';

/** The error `run` throws (it must throw). */
function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('ConfigFields', () => {
  const fields = (raw: Record<string, unknown>) => new ConfigFields(raw, 'llama config');

  it('returns the value, or the fallback when the field is absent or null', () => {
    const read = fields({ n: 3, gone: null, flag: false, name: 'gelu' });
    expect(read.size('n', 'layers', 12)).toBe(3);
    expect(read.size('missing', 'layers', 12)).toBe(12);
    expect(read.boolean('flag', true)).toBe(false);
    expect(read.boolean('gone', true)).toBe(true);
    expect(read.string('name', 'relu')).toBe('gelu');
    expect(read.optionalSize('gone', 'width')).toBeNull();
  });

  it('refuses an explicit null for a size (HF passes None on), where optionalSize reads it as none', () => {
    expect(() => fields({ n_layer: null }).size('n_layer', 'layers', 12)).toThrow(
      'llama config: n_layer must be a positive integer up to 1024, got null',
    );
  });

  it('throws one ConfigFieldError naming the source and the field', () => {
    const error = errorOf(() => fields({ num_hidden_layers: 1e7 }).size('num_hidden_layers', 'layers', 1));
    expect(error).toBeInstanceOf(ConfigFieldError);
    expect(error).toBeInstanceOf(TsformerError);
    expect(error.message).toBe(
      'llama config: num_hidden_layers must be a positive integer up to 1024, got 10000000',
    );
    expect((error as ConfigFieldError).source).toBe('llama config');
    expect((error as ConfigFieldError).field).toBe('num_hidden_layers');
  });

  it('bounds every size kind, refusing non-integers, zero, infinities and unsafe integers', () => {
    for (const [kind, limit] of Object.entries(CONFIG_SIZE_LIMITS)) {
      const read = fields({ at: limit, past: limit + 1 });
      expect(read.size('at', kind as keyof typeof CONFIG_SIZE_LIMITS, 1)).toBe(limit);
      expect(() => read.size('past', kind as keyof typeof CONFIG_SIZE_LIMITS, 1)).toThrow(
        `past must be a positive integer up to ${limit}, got ${limit + 1}`,
      );
    }
    for (const bad of [0, -1, 2.5, '8', true, [8], { n: 8 }, 1e308, Number.NaN]) {
      expect(() => fields({ vocab_size: bad }).size('vocab_size', 'vocab', 1)).toThrow(ConfigFieldError);
    }
  });

  it('reads numbers, rates, booleans, strings and choices by type', () => {
    const read = fields({ eps: 1e-6, p: 0.1, on: true, act: 'silu', kind: 'static' });
    expect(read.positiveNumber('eps', 1)).toBe(1e-6);
    expect(read.rate('p', 0)).toBe(0.1);
    expect(read.oneOf('kind', ['dynamic', 'static'], 'dynamic')).toBe('static');
    const bad = fields({ eps: 0, p: 1, on: 'yes', act: 3, kind: 'paged' });
    expect(() => bad.positiveNumber('eps', 1)).toThrow('eps must be a positive number, got 0');
    expect(() => bad.rate('p', 0)).toThrow('p must be a number in [0, 1), got 1');
    expect(() => bad.boolean('on', false)).toThrow('on must be true or false, got "yes"');
    expect(() => bad.string('act', 'gelu')).toThrow('act must be a string, got 3');
    expect(() => bad.oneOf('kind', ['dynamic', 'static'], 'dynamic')).toThrow(
      'kind must be "dynamic" or "static", got "paged"',
    );
  });

  it('reads token ids below the vocabulary: explicit null is none, absent is the fallback', () => {
    const read = fields({ pad: null, eos: [2, 3], bos: 1, big: 50 });
    expect(read.tokenId('pad', 0, 50)).toBeNull();
    expect(read.tokenId('absent', 7, 50)).toBe(7);
    expect(read.tokenId('bos', 0, 50)).toBe(1);
    expect(read.tokenIds('eos', null, 50)).toEqual([2, 3]);
    expect(() => read.tokenId('big', 0, 50)).toThrow('big must be a token id in [0, 50), got 50');
    expect(() => fields({ eos: [1, 50] }).tokenIds('eos', null, 50)).toThrow(
      'eos must be a list of token ids in [0, 50), got [1,50]',
    );
  });

  it('reads nested objects with dotted names, and refuses other types for them', () => {
    const read = fields({ rope_scaling: { factor: -2 }, rope_parameters: [], other: 'linear' });
    const nested = read.nested('rope_scaling')!;
    expect(() => nested.positiveNumber('factor', 1)).toThrow(
      'llama config: rope_scaling.factor must be a positive number, got -2',
    );
    expect(() => read.nested('rope_parameters')).toThrow('rope_parameters must be a JSON object, got []');
    expect(() => read.nested('other')).toThrow('other must be a JSON object, got "linear"');
    expect(read.nested('absent')).toBeNull();
  });

  it("throws a package's own error type when it supplies one", () => {
    class RopeError extends TsformerError {}
    const read = new ConfigFields({ theta: -1 }, 'RoPE', {
      error: (field, problem) => new RopeError(`${field} ${problem}`),
    });
    expect(() => read.positiveNumber('theta', 1)).toThrow(RopeError);
    expect(() => read.nested('theta')).toThrow('theta must be a JSON object');
  });

  it('returns copies: nothing returned aliases the raw config', () => {
    const raw = { eos: [1, 2], nested: { list: [1] } };
    const eos = fields(raw).tokenIds('eos', null, 10) as number[];
    eos.push(3);
    const nested = fields(raw).read('nested', fieldRules.object, {}) as { list: number[] };
    nested.list.push(2);
    expect(raw).toEqual({ eos: [1, 2], nested: { list: [1] } });
  });
});

describe('fieldRules', () => {
  it('words each rule as the end of "must be …"', () => {
    expect(fieldRules.integer().expected).toBe('an integer');
    expect(fieldRules.integer({ min: 1 }).expected).toBe('an integer >= 1');
    expect(fieldRules.integer({ min: 0, max: 9 }).expected).toBe('an integer in [0, 9]');
    expect(fieldRules.numberIn(0, 1, { min: true }).expected).toBe('a number in (0, 1]');
    expect(fieldRules.oneOf([true, false, 'never']).expected).toBe('true, false or "never"');
    expect(fieldRules.tokenId().expected).toBe('a token id (an integer >= 0)');
  });

  it('accepts what it says and nothing else', () => {
    expect(fieldRules.integer({ min: 1 }).accepts(2 ** 53)).toBe(false);
    expect(fieldRules.numberIn(0, 1, { min: true }).accepts(Number.NaN)).toBe(false);
    expect(fieldRules.finiteNumber.accepts(Number.POSITIVE_INFINITY)).toBe(false);
    expect(fieldRules.object.accepts(null)).toBe(false);
    expect(fieldRules.object.accepts([])).toBe(false);
    const ids = fieldRules.list(fieldRules.tokenId(), 'ids', { nonEmpty: true });
    expect(ids.accepts([])).toBe(false);
    expect(ids.accepts([0, 4])).toBe(true);
    expect(ids.accepts([0, -4])).toBe(false);
    const pair = fieldRules.tuple([fieldRules.integer({ min: 0 }), fieldRules.finiteNumber], 'a pair');
    expect(pair.accepts([1, 0.5])).toBe(true);
    expect(pair.accepts([1, 0.5, 2])).toBe(false);
    expect(pair.accepts([-1, 0.5])).toBe(false);
  });
});

describe('describeFieldValue', () => {
  it('shows JSON, shortened, and never claims digits JSON parsing has lost', () => {
    expect(describeFieldValue('a')).toBe('"a"');
    expect(describeFieldValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(describeFieldValue(JSON.parse('18446744073709551615'))).toBe('1.8446744073709552e+19');
    expect(describeFieldValue(1e308)).toBe('1e+308');
    expect(describeFieldValue(Array.from({ length: 100 }, () => 1))).toMatch(/^\[1,1,.*\.\.\.$/);
    expect(describeFieldValue(undefined)).toBe('undefined');
  });
});
