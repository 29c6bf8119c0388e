// Batched small products c[b] = a[b] · b[b] (a [m, k] or, transposed, [k, m]; b [k, n] or, transposed,
// [n, k]): attention's scores Q·Kᵀ and its output P·V, per head, which tfjs's wasm backend multiplies
// at ~2 GFLOP/s (0.8 ms for a 12-head 32 × 64 × 32 product). Each output row is computed 16 columns at
// a time: x[i, kk] broadcast once, times four vectors of b's row kk, into four accumulators (four
// independent add chains). A transposed b is first laid out as [k, n] in `scratch`, so that its rows
// are contiguous. Every output is Σ_kk a[i, kk] · b[kk, j] in float32, in index order, each product
// rounded before its add in both builds of the module (not `madd`): these products also serve
// training's attention, whose losses must not depend on the engine's relaxed SIMD.

import { storeLanes } from './panel-elements';

/**
 * c [batch, m, n] = a · b for each of `batch` pairs, pointers into the shared memory. `a`'s and `b`'s
 * blocks must be readable 64 bytes past their ends (the last vector of a row may reach past n; those
 * lanes are never stored). `scratch` holds k · n + 16 floats when `transposeB`.
 */
export function batchedMatmul(
  a: usize,
  b: usize,
  c: usize,
  batch: i32,
  m: i32,
  k: i32,
  n: i32,
  transposeA: bool,
  transposeB: bool,
  scratch: usize,
): void {
  const aBatch = <usize>m * <usize>k << 2;
  const bBatch = <usize>k * <usize>n << 2;
  const cBatch = <usize>m * <usize>n << 2;
  const bRow = <usize>n << 2;
  // a[i, kk]: step between consecutive kk, and between rows i.
  const aStep: usize = transposeA ? <usize>m << 2 : 4;
  const aRow: usize = transposeA ? 4 : <usize>k << 2;
  for (let index = 0; index < batch; index++) {
    const ab = a + <usize>index * aBatch;
    let bb = b + <usize>index * bBatch;
    if (transposeB) {
      // b is [n, k]: lay it out as [k, n].
      for (let j = 0; j < n; j++) {
        for (let kk = 0; kk < k; kk++) {
          store<f32>(scratch + ((<usize>kk * <usize>n + <usize>j) << 2), load<f32>(bb + ((<usize>j * <usize>k + <usize>kk) << 2)));
        }
      }
      bb = scratch;
    }
    const cb = c + <usize>index * cBatch;
    for (let i = 0; i < m; i++) {
      const ai = ab + <usize>i * aRow;
      const ci = cb + <usize>i * bRow;
      for (let j = 0; j < n; j += 16) {
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let pa = ai;
        let pb = bb + (<usize>j << 2);
        for (let kk = 0; kk < k; kk++, pa += aStep, pb += bRow) {
          const v = v128.load32_splat(pa);
          s0 = f32x4.add(s0, f32x4.mul(v, v128.load(pb)));
          s1 = f32x4.add(s1, f32x4.mul(v, v128.load(pb, 16)));
          s2 = f32x4.add(s2, f32x4.mul(v, v128.load(pb, 32)));
          s3 = f32x4.add(s3, f32x4.mul(v, v128.load(pb, 48)));
        }
        const left = n - j;
        const out = ci + (<usize>j << 2);
        storeLanes(out, s0, left);
        storeLanes(out + 16, s1, left - 4);
        storeLanes(out + 32, s2, left - 8);
        storeLanes(out + 48, s3, left - 12);
      }
    }
  }
}
