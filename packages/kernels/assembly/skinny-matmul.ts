// Skinny matrix product y[rows, out] = x[rows, in] · W[in, out] (+ bias), for few rows (decode: 1–8),
// over weights packed once into column panels. Compiled by AssemblyScript to WebAssembly SIMD
// (scripts/build-wasm.mjs); the memory is imported and shared, so every thread of the pool runs the
// same exports on the same bytes, each over its own range of panels.
//
// Packed layout (written by src/pack-weight.ts): the output columns are cut into panels of
// PANEL = 16 columns (the last one padded with zero weights); panel p holds, for i = 0 .. in-1, the 16
// weights W[i, 16p .. 16p+15] side by side. Why:
// - a panel is one contiguous stream of in × 16 weights, read front to back exactly once per tile of
//   rows: the hardware prefetcher sees one sequential stream, and a decode step reads each byte of W
//   once — the work is bound by memory bandwidth, so nothing else matters as much;
// - the 16 weights of one input index fill four f32x4 lanes, so each input value x[r, i] is broadcast
//   once and multiplied into four vectors;
// - 16 columns × 2 rows = 8 f32x4 accumulators, plus 4 weight vectors and 2 broadcasts: 14 of the 16
//   SIMD registers of x86-64 (and well within arm64's 32), so the accumulators never spill;
// - threads split the work by whole panels, so no two threads write the same output column.
//
// Summation: each output is Σ_i x[r, i] · W[i, o] in float32, in index order, whatever the tile (one,
// two or four rows; assembly/gemm.ts's tiles too), so a row's result does not depend on the rows
// beside it — except a lone row of bf16 weights, which sums even and odd indices apart and adds the
// two at the end (panelOneRowEvenOdd: faster there). Bias is added last. int8 weights take an integer path (matmulInt8).
//
// Weights are read and widened to float32 by assembly/panel-elements.ts (exact for bf16 and fp16; 16-bit
// weights eight at a time, their column pairs put back in order at the store).

import { finish, load4, madd, PANEL, storeHalfRow, storeLanes } from './panel-elements';

/** Writes 16 outputs of one row: columns col .. col+15 (load4's vectors 0..3), of which `valid` exist. */
@inline
function storeRow<T>(
  y: usize,
  a0: v128,
  a1: v128,
  a2: v128,
  a3: v128,
  bias: usize,
  col: i32,
  valid: i32,
): void {
  storeHalfRow<T>(y, a0, a1, bias, col, valid);
  storeHalfRow<T>(y, a2, a3, bias, col + 8, valid - 8);
}

/** Two rows (xa, xb: their first input) against one panel `w`: 8 accumulators, each weight read once. */
@inline
function panelTwoRows<T>(
  xa: usize,
  xb: usize,
  inF: i32,
  w: usize,
  bias: usize,
  ya: usize,
  yb: usize,
  col: i32,
  valid: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  const step = <usize>(PANEL * sizeof<T>());
  // For each input index i: the 16 weights W[i, col..col+15] (one contiguous run of the panel), times
  // x[a, i] and x[b, i] broadcast, added into the two rows' accumulators.
  let p = w;
  for (let i: usize = 0; i < <usize>inF; i++, p += step) {
    const w0 = load4<T>(p, 0), w1 = load4<T>(p, 1), w2 = load4<T>(p, 2), w3 = load4<T>(p, 3);
    const va = v128.load32_splat(xa + (i << 2));
    const vb = v128.load32_splat(xb + (i << 2));
    a0 = madd(a0, va, w0);
    a1 = madd(a1, va, w1);
    a2 = madd(a2, va, w2);
    a3 = madd(a3, va, w3);
    b0 = madd(b0, vb, w0);
    b1 = madd(b1, vb, w1);
    b2 = madd(b2, vb, w2);
    b3 = madd(b3, vb, w3);
  }
  storeRow<T>(ya, a0, a1, a2, a3, bias, col, valid);
  storeRow<T>(yb, b0, b1, b2, b3, bias, col, valid);
}

/**
 * Four rows against one half panel (8 columns, `half` 0 or 1): 8 accumulators, each weight read and
 * widened once for four rows instead of two — the tile of many-row products (prefill), where
 * widening 16-bit and int8 weights would otherwise cost as much as the arithmetic. Each output is the
 * same index-order sum as in panelTwoRows, so results do not depend on the tile.
 */
@inline
function halfPanelFourRows<T>(
  x: usize,
  xRow: usize,
  inF: i32,
  w: usize,
  half: i32,
  bias: usize,
  y: usize,
  yRow: usize,
  col: i32,
  valid: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
  const step = <usize>(PANEL * sizeof<T>());
  const lane = <usize>(4 * sizeof<T>());
  let p = w + <usize>half * 2 * lane;
  for (let i: usize = 0; i < <usize>inF; i++, p += step) {
    const w0 = load4<T>(p, 0), w1 = load4<T>(p, 1);
    const at = x + (i << 2);
    const va = v128.load32_splat(at);
    a0 = madd(a0, va, w0);
    a1 = madd(a1, va, w1);
    const vb = v128.load32_splat(at + xRow);
    b0 = madd(b0, vb, w0);
    b1 = madd(b1, vb, w1);
    const vc = v128.load32_splat(at + 2 * xRow);
    c0 = madd(c0, vc, w0);
    c1 = madd(c1, vc, w1);
    const vd = v128.load32_splat(at + 3 * xRow);
    d0 = madd(d0, vd, w0);
    d1 = madd(d1, vd, w1);
  }
  const first = col + half * 8;
  const left = valid - half * 8;
  storeHalfRow<T>(y, a0, a1, bias, first, left);
  storeHalfRow<T>(y + yRow, b0, b1, bias, first, left);
  storeHalfRow<T>(y + 2 * yRow, c0, c1, bias, first, left);
  storeHalfRow<T>(y + 3 * yRow, d0, d1, bias, first, left);
}

/**
 * One row against one panel: 4 accumulators, one input index (one 64-byte run of the panel) per
 * iteration, summed in index order like every other tile, so a row's result does not depend on how
 * many rows share its product. Bound by memory, not by the add (or fused multiply-add) latency of the
 * four chains: a run streams from DRAM in ~10 cycles, one chain step takes 3–4.
 */
@inline
function panelOneRow<T>(
  x: usize,
  inF: i32,
  w: usize,
  bias: usize,
  y: usize,
  col: i32,
  valid: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const step = <usize>(PANEL * sizeof<T>());
  let p = w;
  for (let i: usize = 0; i < <usize>inF; i++, p += step) {
    const v = v128.load32_splat(x + (i << 2));
    a0 = madd(a0, v, load4<T>(p, 0));
    a1 = madd(a1, v, load4<T>(p, 1));
    a2 = madd(a2, v, load4<T>(p, 2));
    a3 = madd(a3, v, load4<T>(p, 3));
  }
  storeRow<T>(y, a0, a1, a2, a3, bias, col, valid);
}

/**
 * One row against one bf16 panel: even and odd input indices go to two sets of 4 accumulators (two
 * independent chains), summed at the end. bf16's widening leaves the registers for 8 chains, and
 * panelOneRow's 4 wait on latency (1.25× slower from cache, 1.05× from DRAM; fp32's four loaded
 * vectors per index do not leave them: 8 chains spill, 1.6× slower from cache). Measured A/B, one
 * thread, 768→3072. The one path whose sums are not in index order.
 */
@inline
function panelOneRowEvenOdd<T>(
  x: usize,
  inF: i32,
  w: usize,
  bias: usize,
  y: usize,
  col: i32,
  valid: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const step = <usize>(PANEL * sizeof<T>());
  const pairs = <usize>(inF >> 1);
  let p = w;
  // For each pair of input indices (i, i+1): the panel's two consecutive 16-weight runs, times x[i]
  // into the a-set and times x[i+1] into the c-set.
  for (let k: usize = 0; k < pairs; k++, p += 2 * step) {
    const i = k << 1;
    const v = v128.load32_splat(x + (i << 2));
    a0 = madd(a0, v, load4<T>(p, 0));
    a1 = madd(a1, v, load4<T>(p, 1));
    a2 = madd(a2, v, load4<T>(p, 2));
    a3 = madd(a3, v, load4<T>(p, 3));
    const u = v128.load32_splat(x + ((i + 1) << 2));
    c0 = madd(c0, u, load4<T>(p + step, 0));
    c1 = madd(c1, u, load4<T>(p + step, 1));
    c2 = madd(c2, u, load4<T>(p + step, 2));
    c3 = madd(c3, u, load4<T>(p + step, 3));
  }
  // An odd last index goes to the a-set.
  if (inF & 1) {
    const v = v128.load32_splat(x + (<usize>(inF - 1) << 2));
    a0 = madd(a0, v, load4<T>(p, 0));
    a1 = madd(a1, v, load4<T>(p, 1));
    a2 = madd(a2, v, load4<T>(p, 2));
    a3 = madd(a3, v, load4<T>(p, 3));
  }
  storeRow<T>(
    y,
    f32x4.add(a0, c0),
    f32x4.add(a1, c1),
    f32x4.add(a2, c2),
    f32x4.add(a3, c3),
    bias,
    col,
    valid,
  );
}

/**
 * Rows per block of a many-row product (prefill): a block of x (ROW_BLOCK × in float32, 96–384 KB for
 * in = 768–3072) stays in L2 while every panel of this thread passes over it, instead of x streaming
 * from memory once per panel.
 */
const ROW_BLOCK: i32 = 32;

/**
 * Panels [panelStart, panelEnd) of y = x · W (+ bias): for each block of rows, for each panel, rows
 * four at a time (half a panel each pass), then two, then a last odd row alone; the panel, in × 16
 * weights, stays in L2 between row groups. Pointers are byte offsets into the shared memory; `bias` is
 * 0 when there is none.
 */
@inline
function skinnyMatmul<T>(
  x: usize,
  rows: i32,
  inF: i32,
  w: usize,
  bias: usize,
  y: usize,
  out: i32,
  panelStart: i32,
  panelEnd: i32,
): void {
  const panelBytes = <usize>inF * <usize>(PANEL * sizeof<T>());
  const xRow = <usize>inF << 2;
  const yRow = <usize>out << 2;
  for (let blockStart = 0; blockStart < rows; blockStart += ROW_BLOCK) {
    const blockEnd = min(rows, blockStart + ROW_BLOCK);
    for (let panel = panelStart; panel < panelEnd; panel++) {
      const wp = w + <usize>panel * panelBytes;
      const col = panel * PANEL;
      const valid = min(PANEL, out - col);
      let r = blockStart;
      for (; r + 4 <= blockEnd; r += 4) {
        const xa = x + <usize>r * xRow;
        const ya = y + <usize>r * yRow;
        halfPanelFourRows<T>(xa, xRow, inF, wp, 0, bias, ya, yRow, col, valid);
        if (valid > 8) halfPanelFourRows<T>(xa, xRow, inF, wp, 1, bias, ya, yRow, col, valid);
      }
      for (; r + 2 <= blockEnd; r += 2) {
        const xa = x + <usize>r * xRow;
        const ya = y + <usize>r * yRow;
        panelTwoRows<T>(xa, xa + xRow, inF, wp, bias, ya, ya + yRow, col, valid);
      }
      if (r < blockEnd) {
        const xr = x + <usize>r * xRow;
        const yr = y + <usize>r * yRow;
        if (sizeof<T>() == 2 && !isSigned<T>()) panelOneRowEvenOdd<T>(xr, inF, wp, bias, yr, col, valid);
        else panelOneRow<T>(xr, inF, wp, bias, yr, col, valid);
      }
    }
  }
}

// The module's products, one per packed dtype, all with the pool's arguments (src/pool-protocol.ts):
// x, rows, in, w, scales (int8 only), bias (0: none), y, out, and this thread's panels.

export function matmulFp32(
  x: usize,
  rows: i32,
  inF: i32,
  w: usize,
  _scales: usize,
  bias: usize,
  y: usize,
  out: i32,
  panelStart: i32,
  panelEnd: i32,
): void {
  skinnyMatmul<f32>(x, rows, inF, w, bias, y, out, panelStart, panelEnd);
}

export function matmulBf16(
  x: usize,
  rows: i32,
  inF: i32,
  w: usize,
  _scales: usize,
  bias: usize,
  y: usize,
  out: i32,
  panelStart: i32,
  panelEnd: i32,
): void {
  skinnyMatmul<u16>(x, rows, inF, w, bias, y, out, panelStart, panelEnd);
}

export function matmulFp16(
  x: usize,
  rows: i32,
  inF: i32,
  w: usize,
  _scales: usize,
  bias: usize,
  y: usize,
  out: i32,
  panelStart: i32,
  panelEnd: i32,
): void {
  skinnyMatmul<i16>(x, rows, inF, w, bias, y, out, panelStart, panelEnd);
}

// int8 weights, int16 inputs: integer dot products.
//
// The weights are the same panels (16 int8 columns per input index) with one float32 scale per
// column; x arrives quantized per row (src/int8-quantize.ts): `x` points at int16 values
// [rows, inPairs × 2] (a zero after an odd last index) followed by one float32 scale per row, so
// x[r, i] ≈ xq[r, i] · xScale[r]. For each pair of input indices (i, i+1) the two 16-byte runs of the
// panel are interleaved byte by byte (q[i, c], q[i+1, c], ...), sign-extended to 16 bits, and
// i32x4.dot_i16x8_s multiplies them with the broadcast pair (xq[i], xq[i+1]) and adds each column's
// two products: 16 columns × 2 indices in 2 loads, 2 interleaves, 4 extends, 4 dots and 4 adds, a
// third of the float path's work per weight. The sums are exact integers: |a product pair| ≤
// 2 · 127 · 32767 < 2^23.1, so INT8_BLOCK_PAIRS = 128 pairs stay below 2^31; each block's sums are then
// converted and added in float32, and y = (Σ · scale[o]) · xScale[r] + bias[o]. Results do not depend
// on the row tile or the thread split. An int8 weight is allocated with 16 bytes to spare after its
// last panel (src/packed-weight.ts), which an odd `in` reads past its last index.

const INT8_BLOCK_PAIRS: i32 = 128;

/** Columns 0..7 (`high` false) or 8..15 of input indices a, b interleaved and widened to i16x8 pairs. */
@inline
function interleave(a: v128, b: v128, high: bool): v128 {
  return high
    ? i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
    : i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/** Writes 16 outputs of one row from its float32 sums: (Σ · scale) · xScale + bias. */
@inline
function storeInt8Row(
  y: usize,
  f0: v128,
  f1: v128,
  f2: v128,
  f3: v128,
  scales: usize,
  xScale: f32,
  bias: usize,
  col: i32,
  valid: i32,
): void {
  const s = f32x4.splat(xScale);
  const p = y + (<usize>col << 2);
  const c = scales + (<usize>col << 2);
  storeLanes(p, finish(f32x4.mul(f32x4.mul(f0, v128.load(c)), s), bias, col), valid);
  storeLanes(p + 16, finish(f32x4.mul(f32x4.mul(f1, v128.load(c, 16)), s), bias, col + 4), valid - 4);
  storeLanes(p + 32, finish(f32x4.mul(f32x4.mul(f2, v128.load(c, 32)), s), bias, col + 8), valid - 8);
  storeLanes(p + 48, finish(f32x4.mul(f32x4.mul(f3, v128.load(c, 48)), s), bias, col + 12), valid - 12);
}

/**
 * One or two rows (`two`; xb, yb unused when false) of int16 inputs against one int8 panel `w` of
 * `inF` input indices: integer dot products in blocks of INT8_BLOCK_PAIRS pairs, float32 across blocks.
 */
@inline
function int8Panel(
  two: bool,
  xa: usize,
  xb: usize,
  inF: i32,
  w: usize,
  scales: usize,
  xScaleA: f32,
  xScaleB: f32,
  bias: usize,
  ya: usize,
  yb: usize,
  col: i32,
  valid: i32,
): void {
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  let g0 = f32x4.splat(0), g1 = f32x4.splat(0), g2 = f32x4.splat(0), g3 = f32x4.splat(0);
  const pairs = (inF + 1) >> 1;
  const zero = i32x4.splat(0);
  let p = w;
  for (let start = 0; start < pairs; start += INT8_BLOCK_PAIRS) {
    const end = min(pairs, start + INT8_BLOCK_PAIRS);
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    for (let j = start; j < end; j++, p += 2 * PANEL) {
      // Input indices 2j and 2j+1. Past an odd last index, the 16 bytes read (the next panel's, or
      // the 16 spare bytes after the last) meet xq = 0.
      const first = v128.load(p);
      const second = v128.load(p, PANEL);
      const lo = interleave(first, second, false), hi = interleave(first, second, true);
      const w0 = i16x8.extend_low_i8x16_s(lo), w1 = i16x8.extend_high_i8x16_s(lo);
      const w2 = i16x8.extend_low_i8x16_s(hi), w3 = i16x8.extend_high_i8x16_s(hi);
      const va = v128.load32_splat(xa + (<usize>j << 2));
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(w0, va));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(w1, va));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(w2, va));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(w3, va));
      if (two) {
        const vb = v128.load32_splat(xb + (<usize>j << 2));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(w0, vb));
        b1 = i32x4.add(b1, i32x4.dot_i16x8_s(w1, vb));
        b2 = i32x4.add(b2, i32x4.dot_i16x8_s(w2, vb));
        b3 = i32x4.add(b3, i32x4.dot_i16x8_s(w3, vb));
      }
    }
    f0 = f32x4.add(f0, f32x4.convert_i32x4_s(a0));
    f1 = f32x4.add(f1, f32x4.convert_i32x4_s(a1));
    f2 = f32x4.add(f2, f32x4.convert_i32x4_s(a2));
    f3 = f32x4.add(f3, f32x4.convert_i32x4_s(a3));
    if (two) {
      g0 = f32x4.add(g0, f32x4.convert_i32x4_s(b0));
      g1 = f32x4.add(g1, f32x4.convert_i32x4_s(b1));
      g2 = f32x4.add(g2, f32x4.convert_i32x4_s(b2));
      g3 = f32x4.add(g3, f32x4.convert_i32x4_s(b3));
    }
  }
  storeInt8Row(ya, f0, f1, f2, f3, scales, xScaleA, bias, col, valid);
  if (two) storeInt8Row(yb, g0, g1, g2, g3, scales, xScaleB, bias, col, valid);
}

export function matmulInt8(
  x: usize,
  rows: i32,
  inF: i32,
  w: usize,
  scales: usize,
  bias: usize,
  y: usize,
  out: i32,
  panelStart: i32,
  panelEnd: i32,
): void {
  const panelBytes = <usize>inF * PANEL;
  const xRow = <usize>((inF + 1) >> 1) << 2;
  const xScales = x + <usize>rows * xRow;
  const yRow = <usize>out << 2;
  for (let panel = panelStart; panel < panelEnd; panel++) {
    const wp = w + <usize>panel * panelBytes;
    const col = panel * PANEL;
    const valid = min(PANEL, out - col);
    // The panel (in × 16 bytes) stays in L1/L2 while the rows pass over it, two at a time.
    let r = 0;
    for (; r + 2 <= rows; r += 2) {
      const xa = x + <usize>r * xRow;
      const ya = y + <usize>r * yRow;
      const sa = load<f32>(xScales + (<usize>r << 2));
      const sb = load<f32>(xScales + (<usize>(r + 1) << 2));
      int8Panel(true, xa, xa + xRow, inF, wp, scales, sa, sb, bias, ya, ya + yRow, col, valid);
    }
    if (r < rows) {
      const xa = x + <usize>r * xRow;
      const sa = load<f32>(xScales + (<usize>r << 2));
      int8Panel(false, xa, 0, inF, wp, scales, sa, 0, bias, y + <usize>r * yRow, 0, col, valid);
    }
  }
}

/**
 * Σ of `count` float32 at `p` (a multiple of 16), in 4 independent f32x4 chains: the bandwidth probe's
 * loop (bench/), the fastest way WebAssembly SIMD can read memory, against which kernels are measured.
 */
export function streamSum(p: usize, count: i32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  const end = p + (<usize>count << 2);
  // One 64-byte cache line per iteration, four vector loads into four accumulators.
  for (let q = p; q < end; q += 64) {
    s0 = f32x4.add(s0, v128.load(q));
    s1 = f32x4.add(s1, v128.load(q, 16));
    s2 = f32x4.add(s2, v128.load(q, 32));
    s3 = f32x4.add(s3, v128.load(q, 48));
  }
  const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
