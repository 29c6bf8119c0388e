// Test support: the float32 multiply-add a kernel build promises, reproduced exactly in JavaScript,
// so that tests can hold a kernel's in-order sums to the bit. Not part of the package's API.
import type { KernelPool } from '../kernel-pool.js';
import { packWeight } from '../packed-weight.js';
import { skinnyMatmul } from '../skinny-matmul.js';

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The float32 next to `value` (a float32) towards `target`. */
function nextFloat32Towards(value: number, target: number): number {
  if (value === 0) return target > 0 ? 2 ** -149 : -(2 ** -149);
  f32[0] = value;
  // Away from zero: the bit pattern + 1; towards it: − 1 (sign and magnitude).
  i32[0]! += target > value === value > 0 ? 1 : -1;
  return f32[0]!;
}

/**
 * acc + x · w rounded once to float32 (a fused multiply-add, ties to even). The product of two
 * float32 is exact in float64; their sum `s` is float64's nearest, `e` its exact error (TwoSum), and
 * rounding `s` to float32 is right unless `s` sits exactly halfway between two float32 and `e` says on
 * which side the true sum lies.
 */
export function fusedMadd32(acc: number, x: number, w: number): number {
  const p = x * w;
  const s = acc + p;
  const back = s - acc;
  const e = acc - (s - back) + (p - back);
  const r = Math.fround(s);
  if (e === 0 || r === s) return r;
  const other = nextFloat32Towards(r, s);
  if (Math.abs(other - s) !== Math.abs(s - r)) return r;
  // A tie in float64 that is not one in exact arithmetic: the neighbour on e's side.
  return e > 0 === other > r ? other : r;
}

/** acc + x · w with the product rounded to float32, then the sum: what the baseline build computes. */
export function unfusedMadd32(acc: number, x: number, w: number): number {
  return Math.fround(acc + Math.fround(x * w));
}

/**
 * The multiply-adds a pool's kernels compute: fused in the relaxed-SIMD build on a processor with a
 * fused multiply-add (x86-64 with FMA3, arm64), else unfused. `fused` says which one a test expects.
 */
export type Madd32 = (acc: number, x: number, w: number) => number;

/** `fusedMadd32` or `unfusedMadd32`. */
export function madd32(fused: boolean): Madd32 {
  return fused ? fusedMadd32 : unfusedMadd32;
}

/**
 * Whether `pool`'s build fuses its multiply-adds on this processor, found by one product where the two
 * differ: two rows [-1, 1 + 2^-12] against the column [1, 1 + 2^-12]. The second product,
 * 1 + 2^-11 + 2^-24, rounds to 1 + 2^-11 on its own, so an unfused sum gives 2^-11 and a fused one
 * 2^-11 + 2^-24. (Two rows: the kernel's one-row tile sums even and odd indices apart.)
 */
export function maddIsFused(pool: KernelPool): boolean {
  const near = 1 + 2 ** -12;
  const weight = packWeight(pool, { dtype: 'fp32', data: Float32Array.of(1, near), shape: [2, 1] });
  const y = skinnyMatmul(weight, Float32Array.of(-1, near, -1, near), 2);
  weight.free();
  return y[0] !== 2 ** -11;
}
