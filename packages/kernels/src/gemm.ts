import type { PackedWeight } from './packed-weight.js';
import { productOnPool } from './skinny-matmul.js';

/**
 * y = x · W + bias for many rows (prefill) on the pool of `weight`: `x` is `[rows, in]` row-major, the
 * result `[rows, out]`. The WebAssembly SIMD GEMM (assembly/gemm.ts: 4-row × 8-column register tiles)
 * over the same packed panels as `skinnyMatmul`, its chunks of output panels claimed by `threads`
 * threads (default: as many as the product's size pays for). Each output is the float32 sum over the
 * inputs in index order, + bias: a row's result does not depend on the other rows. int8 weights run
 * the skinny matmul's integer kernel (x quantized per row to int16), which serves any row count: the
 * result equals `skinnyMatmul`'s.
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
