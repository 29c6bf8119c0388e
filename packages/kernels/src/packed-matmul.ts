import { gemm } from './gemm.js';
import type { PackedWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';

/**
 * Rows from which a product runs on the GEMM rather than the skinny matmul. One row (decode) streams
 * the weights through the skinny matmul's one-row tile (two add chains, bound by memory); from two
 * rows (a beam, a batch of requests, prefill) the GEMM's tiles do the arithmetic with fewer passes: a
 * remainder of one or two rows takes one two-row pass over a panel, not the skinny matmul's two-row
 * plus one-row passes (3, 5 and 7 rows: ~1.3–1.5× faster, one thread, GPT-2-124M's 768→3072).
 */
export const GEMM_MIN_ROWS = 2;

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
