import { describe, expect, it } from 'vitest';
import { floatLiteralPaths, pythonJson } from './python-json.js';

describe('floatLiteralPaths', () => {
  it('finds the numbers written as floats, in nested objects and arrays', () => {
    const text =
      '{"a": 30.0, "b": 30, "c": {"d": [1, 2.5, -1e-05, 3E2]}, "e": "7.0", "f": null, "g\\"": true}';
    expect([...floatLiteralPaths(text)].sort()).toEqual(
      ['["a"]', '["c","d",1]', '["c","d",2]', '["c","d",3]'].sort(),
    );
    expect(floatLiteralPaths('[]').size).toBe(0);
    expect(floatLiteralPaths(' { } ').size).toBe(0);
  });
});

describe('pythonJson', () => {
  it("lays out as Python's json.dumps(indent=2, sort_keys=True) and keeps floats floats", () => {
    const text =
      '{"softcap": 30.0, "layers": 2, "eps": 1e-06, "rope": {"factor": 8.0, "type": "llama3"}, "ids": [], "x": {}}';
    const value = JSON.parse(text);
    expect(pythonJson(value, floatLiteralPaths(text))).toBe(
      [
        '{',
        '  "eps": 0.000001,',
        '  "ids": [],',
        '  "layers": 2,',
        '  "rope": {',
        '    "factor": 8.0,',
        '    "type": "llama3"',
        '  },',
        '  "softcap": 30.0,',
        '  "x": {}',
        '}',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(pythonJson(value, floatLiteralPaths(text)))).toEqual(value);
    expect(pythonJson([1, [2]])).toBe('[\n  1,\n  [\n    2\n  ]\n]\n');
  });
});
