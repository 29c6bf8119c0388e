// What every kernel over the packed panel layout shares (assembly/skinny-matmul.ts describes the
// layout): reading packed weights as float32 (fp32 as is; bf16, fp16 and int8 widened exactly), and
// turning accumulated sums into stored outputs (int8 scale, bias, the partial last panel).
//
// The element type of a kernel's generic parameter picks how weights are widened to float32:
// f32 = fp32 (as is), u16 = bf16 bits (exact: shift left 16), i16 = fp16 bits (exact widening below),
// i8 = int8 (exact conversion; the per-column scale is applied once per output).

/** Output columns per panel of the packed layout. */
export const PANEL: i32 = 16;

/** Four float32 weights of one input index, widened from the packed element type at `p`. */
@inline
export function load4<T>(p: usize): v128 {
  if (isFloat<T>()) return v128.load(p);
  if (sizeof<T>() == 2 && !isSigned<T>()) {
    // bf16: the 16 bits are the high half of the float32.
    return i32x4.shl(v128.load16x4_u(p), 16);
  }
  if (sizeof<T>() == 2) return fp16ToFp32(v128.load16x4_u(p));
  // int8: sign-extend 8 → 16 → 32 bits, then convert (exact: |q| ≤ 128).
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

/**
 * fp16 bits (one per 32-bit lane, zero-extended) → float32, exactly, subnormals, infinities and NaN
 * included: placing exponent and mantissa 13 bits up and multiplying by 2^112 rebiases the exponent
 * (15 → 127) and normalises subnormals in one exact product; exponent 31 (inf/NaN) is then forced to
 * 255, and the sign is put back.
 */
@inline
function fp16ToFp32(h: v128): v128 {
  const magnitude = v128.and(h, i32x4.splat(0x7fff));
  let f = f32x4.mul(i32x4.shl(magnitude, 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  const infOrNan = i32x4.gt_s(magnitude, i32x4.splat(0x7bff));
  f = v128.or(f, v128.and(infOrNan, i32x4.splat(0x7f800000)));
  return v128.or(f, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** acc · scale (int8 only), + bias when there is one: what turns a sum into an output. */
@inline
export function finish<T>(acc: v128, scales: usize, bias: usize, col: i32): v128 {
  let v = acc;
  if (isInteger<T>() && sizeof<T>() == 1) v = f32x4.mul(v, v128.load(scales + (<usize>col << 2)));
  if (bias != 0) v = f32x4.add(v, v128.load(bias + (<usize>col << 2)));
  return v;
}

/** Stores the first `count` (0..4) lanes of `v` at `p`: the tail of the last, partial panel. */
@inline
export function storeLanes(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(p, v);
    return;
  }
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Writes 8 outputs of one row: columns col .. col+7, of which `valid` (may be ≤ 0) exist. */
@inline
export function storeHalfRow<T>(y: usize, a0: v128, a1: v128, scales: usize, bias: usize, col: i32, valid: i32): void {
  const p = y + (<usize>col << 2);
  storeLanes(p, finish<T>(a0, scales, bias, col), valid);
  storeLanes(p + 16, finish<T>(a1, scales, bias, col + 4), valid - 4);
}
