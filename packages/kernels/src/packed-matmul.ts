import { gemm } from './gemm.js';
import type { PackedWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';

/**
 * Rows from which a product runs on the GEMM rather than the skinny matmul: below, weights come
 * from memory and the skinny matmul's tiles serve (decode, a beam, a small batch); from 8 rows the
 * GEMM does the same arithmetic in ~10 % less time (GPT-2-124M's shapes, one thread; 4 rows: even).
 */
export const GEMM_MIN_ROWS = 8;

/**
 * y = x · W + bias on the pool of `weight`, by the kernel that suits `rows`: `skinnyMatmul` for
 * fewer than GEMM_MIN_ROWS rows, `gemm` from there on (int8 weights: the integer kernel either way).
 * Same arguments and result as either.
 */
export function packedMatmul(
  weight: PackedWeight,
  x: Float32Array,
  rows: number,
  bias?: Float32Array,
  threads?: number,
): Float32Array {
  return rows >= GEMM_MIN_ROWS
    ? gemm(weight, x, rows, bias, threads)
    : skinnyMatmul(weight, x, rows, bias, threads);
}
