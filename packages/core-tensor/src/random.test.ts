import { describe, expect, it } from 'vitest';
import { TsformerError } from './errors.js';
import { SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it('repeats a sequence for a seed and differs across seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(42)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(42)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(43)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and normals with unit variance', () => {
    const random = new SeededRandom(7);
    const n = 20000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const u = random.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      const z = random.normal();
      squares += z * z;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.05);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new SeededRandom(1.5)).toThrow(TsformerError);
    expect(() => new SeededRandom(1.5)).toThrow('seed must be an integer, got 1.5');
  });
});
