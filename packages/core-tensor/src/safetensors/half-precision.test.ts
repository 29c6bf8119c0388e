import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.js';
import {
  bfloat16BitsFromFloat32,
  float16BitsFromFloat32,
  float32FromBfloat16Bits,
  float32FromFloat16Bits,
} from './half-precision.js';

// Independent references: values computed from the IEEE field definitions in float64 arithmetic,
// rounding by searching for the nearest representable value (not by bit tricks).

/** The value of a binary floating-point bit pattern with `exponentBits` / `mantissaBits` fields. */
function decodeFields(bits: number, exponentBits: number, mantissaBits: number): number {
  const sign = bits >>> (exponentBits + mantissaBits) ? -1 : 1;
  const exponent = (bits >>> mantissaBits) & ((1 << exponentBits) - 1);
  const mantissa = bits & ((1 << mantissaBits) - 1);
  const bias = (1 << (exponentBits - 1)) - 1;
  if (exponent === (1 << exponentBits) - 1) return mantissa === 0 ? sign * Infinity : Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  return sign * (1 + mantissa / 2 ** mantissaBits) * 2 ** (exponent - bias);
}
const halfValue = (bits: number) => decodeFields(bits, 5, 10);
const bfloatValue = (bits: number) => decodeFields(bits, 8, 7);

/** Round-to-nearest-even by search over the non-negative finite patterns `0..maxFinite`, sorted by value. */
function nearestEven(
  value: number,
  decode: (bits: number) => number,
  maxFinite: number,
  signBit: number,
): number {
  if (Number.isNaN(value)) return -1;
  const sign = value < 0 || Object.is(value, -0) ? signBit : 0;
  const magnitude = Math.abs(value);
  // The first value past the largest finite one, as if the exponent range went on: ties there go to infinity.
  const pastMax = decode(maxFinite) + (decode(maxFinite) - decode(maxFinite - 1));
  let low = 0;
  let high = maxFinite + 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (decode(middle) <= magnitude) low = middle;
    else high = middle;
  }
  const lowValue = decode(low);
  const highValue = high > maxFinite ? pastMax : decode(high);
  const below = magnitude - lowValue;
  const above = highValue - magnitude;
  const chosen = below < above || (below === above && low % 2 === 0) ? low : high;
  return sign | chosen;
}

function sampleFloat32s(count: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const fromBits = new Float32Array(new Uint32Array([random.nextUint32()]).buffer)[0]!;
    if (!Number.isNaN(fromBits)) values.push(fromBits);
    values.push(Math.fround(random.normal() * 2 ** Math.floor(random.uniform() * 50 - 30)));
  }
  return values;
}

describe('half-precision widening', () => {
  it('widens every float16 pattern exactly, subnormals, ±0, ±inf and NaN included', () => {
    const patterns = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const widened = float32FromFloat16Bits(patterns);
    for (let bits = 0; bits < 65536; bits++) {
      const expected = halfValue(bits);
      if (!Object.is(widened[bits], expected))
        throw new Error(`f16 0x${bits.toString(16)}: ${widened[bits]} vs ${expected}`);
    }
    // NaN payloads move to the top of the float32 mantissa, as PyTorch's conversion does.
    const nanBits = new Uint32Array(float32FromFloat16Bits(Uint16Array.of(0x7e00, 0xfc01, 0x7c01)).buffer);
    expect([...nanBits]).toEqual([0x7fc00000, 0xff802000, 0x7f802000]);
  });

  it('widens every bfloat16 pattern exactly', () => {
    const patterns = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const widened = float32FromBfloat16Bits(patterns);
    for (let bits = 0; bits < 65536; bits++) {
      const expected = bfloatValue(bits);
      if (!Object.is(widened[bits], expected))
        throw new Error(`bf16 0x${bits.toString(16)}: ${widened[bits]} vs ${expected}`);
    }
  });
});

describe('half-precision rounding', () => {
  const ties = [
    // exact midpoints between neighbours (ties go to the even pattern), both signs
    ...[1, 2 ** -14, 2 ** -20, 1000, 3.5].flatMap((v) => [v * (1 + 2 ** -11), -v * (1 + 3 * 2 ** -11)]),
    2 ** -25, // halfway between 0 and the smallest subnormal half: rounds to 0
    3 * 2 ** -25, // halfway between the first two subnormals: rounds to 2 * 2^-24
  ];
  const specials = [
    0,
    -0,
    Infinity,
    -Infinity,
    65504,
    65519.99,
    65520,
    -65520,
    2 ** -24,
    2 ** -26,
    3.4e38,
    1e-45,
  ];

  it('rounds float32 to float16 to nearest, ties to even, with overflow to infinity', () => {
    for (const value of [...ties, ...specials, ...sampleFloat32s(20000, 1)]) {
      const expected = nearestEven(Math.fround(value), halfValue, 0x7bff, 0x8000);
      const actual = float16BitsFromFloat32(value);
      if (actual !== expected)
        throw new Error(`f16 of ${value}: 0x${actual.toString(16)} vs 0x${expected.toString(16)}`);
    }
  });

  it('rounds float32 to bfloat16 to nearest, ties to even', () => {
    const bfloatTies = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(2 ** 100) * (1 + 2 ** -8), 2 ** -130 * (1 + 2 ** -8)];
    for (const value of [...bfloatTies, ...specials, ...sampleFloat32s(20000, 2)]) {
      const expected = nearestEven(Math.fround(value), bfloatValue, 0x7f7f, 0x8000);
      const actual = bfloat16BitsFromFloat32(value);
      if (actual !== expected)
        throw new Error(`bf16 of ${value}: 0x${actual.toString(16)} vs 0x${expected.toString(16)}`);
    }
  });

  it('turns NaN into the quiet NaN PyTorch writes', () => {
    const negativeNaN = new Float32Array(new Uint32Array([0xffc00001]).buffer)[0]!;
    expect(bfloat16BitsFromFloat32(Number.NaN)).toBe(0x7fc0);
    expect(float16BitsFromFloat32(Number.NaN)).toBe(0x7e00);
    expect(bfloat16BitsFromFloat32(negativeNaN)).toBe(0x7fc0);
    expect(float16BitsFromFloat32(negativeNaN)).toBe(0xfe00);
  });
});
