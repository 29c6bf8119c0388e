// Normalizations over the last axis, row by row, optionally after a residual add (a pre-norm block's
// `sum = residual + delta; normed = norm(sum)`): PyTorch's LayerNorm (mean, biased variance, eps inside
// the square root, optional weight and bias) and Llama's RMSNorm ((offset + weight) · x / sqrt(mean(x²) +
// eps), Gemma's offset 1). Float32 throughout, the steps of the portable tfjs formula in its order;
// sums four lanes at a time, then a scalar tail for sizes that are not a multiple of 4.

import { sumLanes } from './lanes';

/** Σ x[d] for d < size. */
@inline
function sum(x: usize, size: i32): f32 {
  const whole = size & ~3;
  let lanes = f32x4.splat(0);
  for (let d = 0; d < whole; d += 4) lanes = f32x4.add(lanes, v128.load(x + (<usize>d << 2)));
  let total = sumLanes(lanes);
  for (let d = whole; d < size; d++) total += load<f32>(x + (<usize>d << 2));
  return total;
}

/** Σ (x[d] − center)² for d < size. */
@inline
function sumOfSquares(x: usize, center: f32, size: i32): f32 {
  const whole = size & ~3;
  const c = f32x4.splat(center);
  let lanes = f32x4.splat(0);
  for (let d = 0; d < whole; d += 4) {
    const v = f32x4.sub(v128.load(x + (<usize>d << 2)), c);
    lanes = f32x4.add(lanes, f32x4.mul(v, v));
  }
  let total = sumLanes(lanes);
  for (let d = whole; d < size; d++) {
    const v = load<f32>(x + (<usize>d << 2)) - center;
    total += v * v;
  }
  return total;
}

/**
 * output [rows, size] = norm(x) per row, where x is `input` or, when `addend` is not 0, `input +
 * addend` (then also stored at `sumOutput`). `layer` picks LayerNorm (else RMSNorm); `weight` and
 * `bias` are [size] or 0 for none (RMSNorm always has a weight, plus `weightOffset`).
 */
export function normalizeRows(
  input: usize,
  addend: usize,
  sumOutput: usize,
  output: usize,
  rows: i32,
  size: i32,
  layer: bool,
  weight: usize,
  bias: usize,
  weightOffset: f32,
  eps: f32,
): void {
  const rowBytes = <usize>size << 2;
  const count = <f32>size;
  for (let row = 0; row < rows; row++) {
    const start = <usize>row * rowBytes;
    let x = input + start;
    if (addend != 0) {
      const sumRow = sumOutput + start;
      for (let d = 0; d < size; d++) {
        const offset = <usize>d << 2;
        store<f32>(sumRow + offset, load<f32>(x + offset) + load<f32>(addend + start + offset));
      }
      x = sumRow;
    }
    const y = output + start;
    if (layer) {
      const mean = sum(x, size) / count;
      const inverse: f32 = 1 / Mathf.sqrt(sumOfSquares(x, mean, size) / count + eps);
      for (let d = 0; d < size; d++) {
        const offset = <usize>d << 2;
        let v = (load<f32>(x + offset) - mean) * inverse;
        if (weight != 0) v *= load<f32>(weight + offset);
        if (bias != 0) v += load<f32>(bias + offset);
        store<f32>(y + offset, v);
      }
    } else {
      const inverse: f32 = 1 / Mathf.sqrt(sumOfSquares(x, 0, size) / count + eps);
      for (let d = 0; d < size; d++) {
        const offset = <usize>d << 2;
        store<f32>(y + offset, (load<f32>(weight + offset) + weightOffset) * (load<f32>(x + offset) * inverse));
      }
    }
  }
}
