// Many-row matrix product y[rows, out] = x[rows, in] · W[in, out] (+ bias): prefill, where the work
// is arithmetic rather than reading weights. Over the same packed panels as assembly/skinny-matmul.ts
// (one packed copy serves decode and prefill), with the same exports' signature, so the pool splits
// it over threads by whole panels in the same way. The rows arrive interleaved in tiles of four
// (`interleaveRows`, run once per product before the threads start): tile t holds, for i = 0 .. in-1,
// x[4t, i], x[4t+1, i], x[4t+2, i], x[4t+3, i] side by side.
//
// Register tile: 4 rows × 8 columns (half a panel) = 8 f32x4 accumulators, 2 weight vectors, 4
// broadcast inputs and the product's temporary: all 15 SIMD registers V8 allocates on x86-64 (the
// 16th is its scratch; V8 loads a loop iteration's operands before its arithmetic, so every load is
// live at once — a 5- or 6-row tile spills accumulators to the stack and runs ~40 % slower, measured).
// With the rows interleaved the four inputs of index i sit at one address plus constant offsets, so an
// iteration spends no instructions on addresses; that is what this kernel gains over the skinny
// matmul's four-row tile, which computes three row addresses per iteration (~10 % measured): the loop
// is bound by instruction throughput (16 vector operations, 6 loads, a few integer ones), not loads.
//
// A last tile of one or two rows takes a 2-row × 16-column tile over the whole panel instead
// (tileTwoRowsPanel, the skinny matmul's two-row tile on interleaved rows): 5 rows cost 6 rows'
// arithmetic, not 8, which is what lets products of 2–7 rows (beams, batched decode) run here too.
//
// Cache block: ROW_BLOCK rows (in = 768: 96 KB; in = 3072: 384 KB) stay in L2 while every half panel
// of this thread passes over them; a half panel (in × 16 weights' cache lines) stays in L2 while the
// block's row tiles pass over it.
//
// Summation: every output is Σ_i x[r, i] · W[i, o] in float32 in index order (one accumulator lane,
// i = 0, 1, …), then + bias — what the skinny matmul's 2- and 4-row tiles compute. A row's result
// therefore does not depend on how many rows share the product, nor on the tile it falls in: a last
// partial tile computes its missing rows as copies of its last real row and stores only the real ones.
//
// Weights: fp32, bf16 and fp16, read and widened by assembly/panel-elements.ts (16-bit ones eight at a
// time, even and odd columns apart, put back in column order at the store). int8 weights have no GEMM:
// the skinny matmul's integer kernel (matmulInt8) serves them at every row count.

import { load4, madd, PANEL, storeHalfRow } from './panel-elements';

const TILE_ROWS: i32 = 4;
const ROW_BLOCK: i32 = 8 * TILE_ROWS;

/**
 * x [rows, in] (row-major float32 at `x`) → `xt`, tiles of four rows interleaved by input index
 * (`ceil(rows / 4) · in · 4` floats); a last partial tile repeats its last row. Four inputs of four
 * rows move as one 4 × 4 transpose in registers.
 */
export function interleaveRows(x: usize, rows: i32, inF: i32, xt: usize): void {
  const xRow = <usize>inF << 2;
  const last = <usize>(rows - 1);
  let out = xt;
  for (let r: usize = 0; r < <usize>rows; r += 4) {
    const r0 = x + r * xRow;
    const r1 = x + min(r + 1, last) * xRow;
    const r2 = x + min(r + 2, last) * xRow;
    const r3 = x + min(r + 3, last) * xRow;
    let i: usize = 0;
    for (; i + 4 <= <usize>inF; i += 4, out += 64) {
      const at = i << 2;
      const a = v128.load(r0 + at), b = v128.load(r1 + at), c = v128.load(r2 + at), d = v128.load(r3 + at);
      const ab01 = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
      const ab23 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
      const cd01 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
      const cd23 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
      v128.store(out, v128.shuffle<i32>(ab01, cd01, 0, 1, 4, 5));
      v128.store(out, v128.shuffle<i32>(ab01, cd01, 2, 3, 6, 7), 16);
      v128.store(out, v128.shuffle<i32>(ab23, cd23, 0, 1, 4, 5), 32);
      v128.store(out, v128.shuffle<i32>(ab23, cd23, 2, 3, 6, 7), 48);
    }
    for (; i < <usize>inF; i++, out += 16) {
      const at = i << 2;
      store<f32>(out, load<f32>(r0 + at));
      store<f32>(out, load<f32>(r1 + at), 4);
      store<f32>(out, load<f32>(r2 + at), 8);
      store<f32>(out, load<f32>(r3 + at), 12);
    }
  }
}

/**
 * One tile of four interleaved rows at `xt` (of which `count`, 1..4, are real) against half `half` of
 * the panel at `w`: 8 accumulators, each weight widened once for the four rows.
 */
@inline
function tileHalfPanel<T>(
  xt: usize,
  count: i32,
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
  const end = xt + (<usize>inF << 4);
  // For each input index i: the 8 weights W[i, col+8·half ..] once, times x[r, i] of the four rows.
  for (let q = xt; q < end; q += 16, p += step) {
    // 16-bit weights: w0 holds columns 0, 2, 4, 6 of the half, w1 columns 1, 3, 5, 7 (storeHalfRow
    // puts them back in order); fp32: columns 0..3 and 4..7.
    const w0 = load4<T>(p, 0), w1 = load4<T>(p, 1);
    let v = v128.load32_splat(q);
    a0 = madd(a0, v, w0);
    a1 = madd(a1, v, w1);
    v = v128.load32_splat(q, 4);
    b0 = madd(b0, v, w0);
    b1 = madd(b1, v, w1);
    v = v128.load32_splat(q, 8);
    c0 = madd(c0, v, w0);
    c1 = madd(c1, v, w1);
    v = v128.load32_splat(q, 12);
    d0 = madd(d0, v, w0);
    d1 = madd(d1, v, w1);
  }
  const first = col + half * 8;
  const left = valid - half * 8;
  storeHalfRow<T>(y, a0, a1, bias, first, left);
  if (count > 1) storeHalfRow<T>(y + yRow, b0, b1, bias, first, left);
  if (count > 2) storeHalfRow<T>(y + 2 * yRow, c0, c1, bias, first, left);
  if (count > 3) storeHalfRow<T>(y + 3 * yRow, d0, d1, bias, first, left);
}

/**
 * The last tile's one or two real rows at `xt` (`count`; with one, its copy in the tile's second row
 * is computed and not stored) against the whole panel at `w`: 8 accumulators, as in the skinny
 * matmul's two-row tile. A remainder of one or two rows costs two rows' arithmetic here, not the four
 * of a half-panel tile.
 */
@inline
function tileTwoRowsPanel<T>(
  xt: usize,
  count: i32,
  inF: i32,
  w: usize,
  bias: usize,
  y: usize,
  yRow: usize,
  col: i32,
  valid: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  const step = <usize>(PANEL * sizeof<T>());
  let p = w;
  const end = xt + (<usize>inF << 4);
  // For each input index i: the panel's 16 weights W[i, col ..] once, times x[r, i] of the two rows.
  for (let q = xt; q < end; q += 16, p += step) {
    const w0 = load4<T>(p, 0), w1 = load4<T>(p, 1), w2 = load4<T>(p, 2), w3 = load4<T>(p, 3);
    const va = v128.load32_splat(q);
    const vb = v128.load32_splat(q, 4);
    a0 = madd(a0, va, w0);
    a1 = madd(a1, va, w1);
    a2 = madd(a2, va, w2);
    a3 = madd(a3, va, w3);
    b0 = madd(b0, vb, w0);
    b1 = madd(b1, vb, w1);
    b2 = madd(b2, vb, w2);
    b3 = madd(b3, vb, w3);
  }
  storeHalfRow<T>(y, a0, a1, bias, col, valid);
  storeHalfRow<T>(y, a2, a3, bias, col + 8, valid - 8);
  if (count > 1) {
    storeHalfRow<T>(y + yRow, b0, b1, bias, col, valid);
    storeHalfRow<T>(y + yRow, b2, b3, bias, col + 8, valid - 8);
  }
}

/**
 * Panels [panelStart, panelEnd) of y = x · W (+ bias), `xt` the rows as `interleaveRows` wrote them:
 * for each block of ROW_BLOCK rows, for each half panel, the block's tiles of three or four rows; a
 * last tile of one or two rows takes the whole panel in one pass (tileTwoRowsPanel). Pointers are
 * byte offsets into the shared memory; `bias` is 0 when there is none.
 */
@inline
function gemm<T>(
  xt: usize,
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
  const tileBytes = <usize>inF << 4;
  const yRow = <usize>out << 2;
  for (let blockStart = 0; blockStart < rows; blockStart += ROW_BLOCK) {
    const blockEnd = min(rows, blockStart + ROW_BLOCK);
    // Rows of a last partial tile that the two-row tile takes (0 when the block ends on 3 or 4).
    const tail = (blockEnd - blockStart) % TILE_ROWS;
    const pairTail = tail == 1 || tail == 2 ? tail : 0;
    const quadEnd = blockEnd - pairTail;
    for (let panel = panelStart; panel < panelEnd; panel++) {
      const wp = w + <usize>panel * panelBytes;
      const col = panel * PANEL;
      const valid = min(PANEL, out - col);
      for (let half = 0; half < 2 && half * 8 < valid; half++) {
        for (let r = blockStart; r < quadEnd; r += TILE_ROWS) {
          const tile = xt + <usize>(r / TILE_ROWS) * tileBytes;
          const count = min(TILE_ROWS, blockEnd - r);
          tileHalfPanel<T>(tile, count, inF, wp, half, bias, y + <usize>r * yRow, yRow, col, valid);
        }
      }
      if (pairTail > 0) {
        const tile = xt + <usize>(quadEnd / TILE_ROWS) * tileBytes;
        tileTwoRowsPanel<T>(tile, pairTail, inF, wp, bias, y + <usize>quadEnd * yRow, yRow, col, valid);
      }
    }
  }
}

// The module's GEMM exports, one per float weight dtype, with the pool's arguments
// (src/pool-protocol.ts): x (interleaved), rows, in, w, scales (unused), bias, y, out, and the panels.

export function gemmFp32(
  xt: usize,
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
  gemm<f32>(xt, rows, inF, w, bias, y, out, panelStart, panelEnd);
}

export function gemmBf16(
  xt: usize,
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
  gemm<u16>(xt, rows, inF, w, bias, y, out, panelStart, panelEnd);
}

export function gemmFp16(
  xt: usize,
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
  gemm<i16>(xt, rows, inF, w, bias, y, out, panelStart, panelEnd);
}
