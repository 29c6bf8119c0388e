import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { finiteNumber, integer, integerAtLeast, tokenIdRows, tokenIds } from './option-parsers.js';

describe('option parsers', () => {
  it('read integers only in decimal digits', () => {
    expect(integer('16')).toBe(16);
    expect(integer('-3')).toBe(-3);
    expect(integer('+7')).toBe(7);
    for (const value of [
      '0x10',
      '0b11',
      '0o7',
      '1e3',
      '12.0',
      '12.5',
      ' 12',
      '12 ',
      '',
      'abc',
      '9007199254740993',
    ]) {
      expect(() => integer(value), value).toThrow(InvalidArgumentError);
    }
    expect(() => integerAtLeast(1)('0x10')).toThrow(/Expected an integer in decimal digits/);
  });

  it('read numbers only in decimal notation', () => {
    expect(finiteNumber('0.9')).toBe(0.9);
    expect(finiteNumber('.5')).toBe(0.5);
    expect(finiteNumber('1e-3')).toBe(0.001);
    expect(finiteNumber('-2.')).toBe(-2);
    for (const value of ['0x1', 'Infinity', '1e999', '', ' 1', 'NaN', '1,5']) {
      expect(() => finiteNumber(value), value).toThrow(InvalidArgumentError);
    }
  });

  it('read token ids only as decimal digits', () => {
    expect(tokenIds('2, 13', [1])).toEqual([1, 2, 13]);
    expect(tokenIdRows('5,6', [[9]])).toEqual([[9], [5, 6]]);
    for (const value of ['0x10', '1e2', '-1', '3,', '2.0', '']) {
      expect(() => tokenIds(value), value).toThrow(/Expected comma-separated token ids/);
    }
  });
});
