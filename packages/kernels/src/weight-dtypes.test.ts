import { describe, expect, it } from 'vitest';
import {
  bf16BitsToFloat32,
  float32ToBf16Bits,
  float32ToFp16Bits,
  fp16BitsToFloat32,
  fp16BitsToNumber,
} from './weight-dtypes.js';

describe('16-bit weight conversions', () => {
  it('widens every fp16 bit pattern exactly and rounds each back to itself', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const widened = fp16BitsToFloat32(all);
    const back = float32ToFp16Bits(widened);
    for (let h = 0; h < 65536; h++) {
      const value = fp16BitsToNumber(h);
      if (Number.isNaN(value)) {
        expect(Number.isNaN(widened[h])).toBe(true);
        expect(back[h]! & 0x7c00).toBe(0x7c00);
        continue;
      }
      expect(widened[h]).toBe(value);
      expect(back[h]).toBe(h);
    }
  });

  it('rounds float32 to fp16 and bf16 to nearest, ties to even, overflow to infinity', () => {
    // 1 + 2^-11 is halfway between fp16 1 and 1 + 2^-10: ties go to the even 1; 1 + 3·2^-11 goes up.
    const values = Float32Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 3 * 2 ** -26, -1e-8);
    expect([...fp16BitsToFloat32(float32ToFp16Bits(values))]).toEqual([
      1,
      1 + 2 ** -9,
      Infinity,
      0,
      2 ** -24,
      -0,
    ]);
    const ties = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -9));
    expect([...bf16BitsToFloat32(float32ToBf16Bits(ties))]).toEqual([1, 1 + 2 ** -6, -1]);
  });
});
