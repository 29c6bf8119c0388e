/** Weight element types the skinny-matmul kernel reads (its index is the kernel's op in the pool). */
export const PACKED_DTYPES = ['fp32', 'bf16', 'fp16', 'int8'] as const;
export type PackedDtype = (typeof PACKED_DTYPES)[number];

/** Bytes per packed weight. */
export const PACKED_DTYPE_BYTES: Readonly<Record<PackedDtype, number>> = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  int8: 1,
};

/** Output columns per panel of the packed layout (assembly/skinny-matmul.ts explains it). */
export const PANEL_COLUMNS = 16;

/** float32 → bf16 bits, rounded to nearest, ties to even (as PyTorch's `.to(torch.bfloat16)`); NaN stays NaN. */
export function float32ToBf16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → fp16 bits, rounded to nearest, ties to even; overflow → ±inf, NaN stays NaN. */
export function float32ToFp16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToFp16(bits[i]!);
  return out;
}

function float32BitsToFp16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  // Keep the top bits of the (implicit-1) mantissa: 10 for a normal, fewer for a subnormal; round the
  // dropped bits to nearest even (a carry may roll into the exponent, up to infinity: correct).
  const shift = e <= 0 ? 14 - e : 13;
  if (shift > 24) return sign;
  const full = e <= 0 ? mantissa | 0x800000 : mantissa;
  let half = (e <= 0 ? 0 : e << 10) | (full >>> shift);
  const dropped = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (dropped > halfway || (dropped === halfway && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** bf16 bits → float32 values (exact: bf16 is float32's upper half). */
export function bf16BitsToFloat32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i]! << 16;
  return new Float32Array(wide.buffer);
}

/** fp16 bits → float32 values (exact: every fp16 value, subnormals included, is a float32). */
export function fp16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fp16BitsToNumber(bits[i]!);
  return out;
}

/** The value of one fp16 bit pattern. */
export function fp16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
