// Conversions between float32 and the two 16-bit float formats, bit for bit as PyTorch does them:
// `.float()` widens exactly; `.to(torch.bfloat16 / torch.float16)` rounds to nearest, ties to even.

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** The float32 bit pattern of `value` (rounded to float32 first). */
function float32Bits(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0]!;
}

/** bfloat16 bit patterns widened to float32: each pattern becomes the high half of a float32. */
export function float32FromBfloat16Bits(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

/** IEEE half bit patterns widened to float32 (exact: subnormals, ±0, ±inf, NaN payloads kept). */
export function float32FromFloat16Bits(bits: Uint16Array): Float32Array {
  const table = float16ToFloat32Table();
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return new Float32Array(out.buffer);
}

let float16Table: Uint32Array | undefined;

/** The float32 bit pattern of every one of the 65536 half bit patterns, built on first use. */
function float16ToFloat32Table(): Uint32Array {
  if (!float16Table) {
    float16Table = new Uint32Array(65536);
    for (let half = 0; half < 65536; half++) float16Table[half] = widenFloat16(half);
  }
  return float16Table;
}

function widenFloat16(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  // Re-bias the exponent from 15 to 127.
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // A subnormal half (mantissa * 2^-24) is a normal float32: shift its leading one into bit 10.
  let biasedExponent = 113;
  let normalised = mantissa;
  while ((normalised & 0x400) === 0) {
    normalised <<= 1;
    biasedExponent--;
  }
  return (sign | (biasedExponent << 23) | ((normalised & 0x3ff) << 13)) >>> 0;
}

/** `value` rounded to float32, then to bfloat16 (nearest, ties to even); every NaN becomes 0x7fc0 as in PyTorch. */
export function bfloat16BitsFromFloat32(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  const bits = float32Bits(value);
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** The half-precision value just past the largest finite one, 65504: from here on a value rounds to infinity. */
const FLOAT16_OVERFLOW = 65520;
const FLOAT16_SMALLEST_NORMAL = 2 ** -14;

/**
 * `value` rounded to float32, then to IEEE half (nearest, ties to even), with subnormals, ±0 and
 * ±inf; a NaN keeps its sign and becomes the quiet NaN 0x7e00 as in PyTorch.
 */
export function float16BitsFromFloat32(value: number): number {
  const bits = float32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(value)) return sign | 0x7e00;
  const magnitude = Math.abs(Math.fround(value));
  if (magnitude >= FLOAT16_OVERFLOW) return sign | 0x7c00;
  // Subnormal range: a whole number of 2^-24 steps (1024 steps reach the smallest normal).
  if (magnitude < FLOAT16_SMALLEST_NORMAL) return sign | roundHalfToEven(magnitude * 2 ** 24);
  const exponent = ((bits >>> 23) & 0xff) - 127;
  const mantissa = bits & 0x7fffff;
  const truncated = ((exponent + 15) << 10) | (mantissa >>> 13);
  const dropped = mantissa & 0x1fff;
  const roundUp = dropped > 0x1000 || (dropped === 0x1000 && (truncated & 1) === 1);
  // A carry out of the mantissa correctly moves to the next exponent.
  return sign | (truncated + (roundUp ? 1 : 0));
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}
