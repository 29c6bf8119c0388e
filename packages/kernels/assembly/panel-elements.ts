// What every float kernel over the packed panel layout shares (assembly/skinny-matmul.ts describes
// the layout; assembly/gemm.ts uses it too): reading packed weights as float32 vectors (fp32 as is;
// bf16 and fp16 widened exactly, eight at a time), and turning accumulated sums into stored outputs
// (16-bit pairs back in column order, bias, the partial last panel). int8 weights take the integer
// kernel (matmulInt8 in assembly/skinny-matmul.ts) at every row count, so no float kernel widens them.
//
// The element type of a kernel's generic parameter picks how weights are widened to float32:
// f32 = fp32 (as is), u16 = bf16 bits (exact: shift left 16), i16 = fp16 bits (exact widening below).

/** Output columns per panel of the packed layout. */
export const PANEL: i32 = 16;

/**
 * Vector `k` (0..3) of four float32 weights of one input index's run at `p`, widened from the packed
 * element type. fp32 weights: the run's weights 4k .. 4k+3, in column order. 16-bit weights
 * (bf16, fp16) are read eight at a time and split into the even columns of the eight (the low halves
 * of the 32-bit lanes, shifted up) and the odd ones (the high halves, in place): vector 0 holds
 * columns 0, 2, 4, 6, vector 1 columns 1, 3, 5, 7, vectors 2 and 3 the same of columns 8..15.
 * `inColumnOrder` puts such pairs back in order before they are stored. bf16's odd columns clear
 * their low halves by two shifts rather than a mask: a mask constant takes a SIMD register, which the
 * 4-row tiles (the GEMM's, the skinny matmul's) do not have — V8 keeps 15 — and with it the bf16 GEMM
 * spilled and ran ~1.5× slower (A/B, one thread, bit-identical results).
 */
@inline
export function load4<T>(p: usize, k: i32): v128 {
  if (isFloat<T>()) return v128.load(p + (<usize>k << 4));
  if (sizeof<T>() == 2) {
    const eight = v128.load(p + (<usize>(k >> 1) << 4));
    // fp16: fp16HighToFp32 reads the high halves only, so the odd columns need no operation.
    if (isSigned<T>()) return fp16HighToFp32(k & 1 ? eight : i32x4.shl(eight, 16));
    // bf16: the 16 bits are the high half of the float32.
    return k & 1 ? i32x4.shl(i32x4.shr_u(eight, 16), 16) : i32x4.shl(eight, 16);
  }
  return v128.load(p + (<usize>k << 4));
}

/**
 * Sums of the columns load4 gives in vectors `k` and `k + 1` as columns in order: for 16-bit weights
 * `even` holds columns 0, 2, 4, 6 and `odd` 1, 3, 5, 7 of eight, and this returns columns 0..3
 * (`second` false) or 4..7 (`second` true); other types are in order already.
 */
@inline
export function inColumnOrder<T>(even: v128, odd: v128, second: bool): v128 {
  if (sizeof<T>() != 2) return second ? odd : even;
  return second ? i32x4.shuffle(even, odd, 2, 6, 3, 7) : i32x4.shuffle(even, odd, 0, 4, 1, 5);
}

/**
 * fp16 bits in the high half of each 32-bit lane (the low half is ignored) → float32, exactly,
 * subnormals, infinities and NaN included: placing exponent and mantissa 13 bits up (3 down from the
 * high half) and multiplying by 2^112 rebiases the exponent (15 → 127) and normalises subnormals in
 * one exact product; exponent 31 (inf/NaN) is then forced to 255, and the sign is put back.
 */
@inline
function fp16HighToFp32(h: v128): v128 {
  const magnitude = v128.and(h, i32x4.splat(0x7fff0000));
  let f = f32x4.mul(i32x4.shr_u(magnitude, 3), f32x4.splat(reinterpret<f32>(0x77800000)));
  const infOrNan = i32x4.gt_s(magnitude, i32x4.splat(0x7bffffff));
  f = v128.or(f, v128.and(infOrNan, i32x4.splat(0x7f800000)));
  return v128.or(f, v128.and(h, i32x4.splat(<i32>0x80000000)));
}

/**
 * acc + a · b, lane by lane: the one multiply-add of every float product kernel. In the module built
 * with relaxed SIMD (scripts/build-wasm.mjs) it is `f32x4.relaxed_madd`, a fused multiply-add (one
 * rounding) where the processor has one (x86-64 with FMA3, arm64) — what PyTorch's own GEMMs compute
 * — and a product then a sum elsewhere; in the baseline module always a product rounded to float32
 * then a sum. Either way within the float32 tolerances the kernels are tested to.
 */
@inline
export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** acc + bias (when there is one) of columns col .. col+3: what turns a sum into an output. */
@inline
export function finish(acc: v128, bias: usize, col: i32): v128 {
  return bias != 0 ? f32x4.add(acc, v128.load(bias + (<usize>col << 2))) : acc;
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

/** Writes 8 outputs of one row: columns col .. col+7 (load4's vectors 0, 1), of which `valid` (may be ≤ 0) exist. */
@inline
export function storeHalfRow<T>(y: usize, a0: v128, a1: v128, bias: usize, col: i32, valid: i32): void {
  const p = y + (<usize>col << 2);
  storeLanes(p, finish(inColumnOrder<T>(a0, a1, false), bias, col), valid);
  storeLanes(p + 16, finish(inColumnOrder<T>(a0, a1, true), bias, col + 4), valid - 4);
}
