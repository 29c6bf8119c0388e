import { describe, expect, it } from 'vitest';
import { compareElements, describeComparison } from './compare-elements.js';

const atol = () => 1e-5;

describe('compareElements', () => {
  it('holds every element within the tolerance of PyTorch by the plain rule', () => {
    const result = compareElements([1, 2.00002, 3], [1, 2, 3.000001], undefined, atol);
    expect(result).toMatchObject({ elements: 3, failures: 1, byFloat64: 0 });
    expect(result.worstDifference).toBeCloseTo(2e-5, 10);
    expect(describeComparison(result, undefined, 'atol 1e-5')).toMatch(
      /^1 of 3 elements off; max \|diff\| 2\.00e-5/,
    );
  });

  it('passes by the float64 rule an element as far from float64 as PyTorch float32 goes on the tensor', () => {
    // PyTorch float32 strays 1e-4 from float64 on the tensor's second element; ours strays 3e-4 on it
    const exact = { values: [1, 2, 3], spread: 1e-4, spreadFactor: 8 };
    const result = compareElements([1, 2.0003, 3], [1, 2.0001, 3], exact, atol);
    expect(result).toMatchObject({ failures: 0, byFloat64: 1 });
    expect(describeComparison(result, exact, 'atol 1e-5')).toMatch(
      /from float64 3\.00e-4, PyTorch float32 1\.00e-4 \(atol 1e-5 \+ 8 x PyTorch's\); 1 elements passed by the float64 rule alone$/,
    );
  });

  it('fails an element where PyTorch float32 is accurate and we are not', () => {
    const exact = { values: [1, 2], spread: 1e-7, spreadFactor: 8 };
    const result = compareElements([1, 2.00003], [1, 2], exact, atol);
    expect(result).toMatchObject({ failures: 1, byFloat64: 0 });
  });

  it('judges against float64, not PyTorch: an element close to PyTorch but far from float64 fails', () => {
    const exact = { values: [5], spread: 2e-6, spreadFactor: 8 };
    expect(compareElements([5.001], [5.001], exact, atol).failures).toBe(1);
  });
});
