import type { PackedWeight } from './packed-weight.js';
import { productOnPool } from './skinny-matmul.js';

/**
 * y = x · W + bias for many rows (prefill) on the pool of `weight`: `x` is `[rows, in]` row-major, the
 * result `[rows, out]`. The WebAssembly SIMD GEMM (assembly/gemm.ts: 6-row × 8-column register tiles)
 * over the same packed panels as `skinnyMatmul`, the output panels split over `threads` threads
 * (default: as many as the product's size pays for). Each output is the float32 sum over the inputs in
 * index order, then × scale (int8), + bias: a row's result does not depend on the other rows.
 */
export function gemm(
  weight: PackedWeight,
  x: Float32Array,
  rows: number,
  bias?: Float32Array,
  threads?: number,
): Float32Array {
  return productOnPool('gemm', weight, x, rows, bias, threads);
}
