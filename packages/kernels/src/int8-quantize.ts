import type { WeightLayout } from './weight-layout.js';

/** int8 weights with one float32 scale per output column: W[i, o] ≈ q[i, o] · scale[o]. */
export interface Int8Weights {
  /** Same layout as the weights they quantize; -127 .. 127. */
  q: Int8Array;
  /** `[out]`. */
  scales: Float32Array;
}

/**
 * Symmetric per-output-channel quantization: scale[o] = max_i |W[i, o]| / 127, q = round(W / scale).
 * A column of zeros gets scale 0 (and q 0). `weights` are read through `layout`'s strides.
 */
export function quantizeInt8PerColumn(weights: ArrayLike<number>, layout: WeightLayout): Int8Weights {
  const { inFeatures, outFeatures, inStride, outStride } = layout;
  const maxAbs = new Float32Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let m = 0;
    for (let i = 0; i < inFeatures; i++) m = Math.max(m, Math.abs(weights[i * inStride + o * outStride]!));
    maxAbs[o] = m;
  }
  const scales = maxAbs.map((m) => m / 127);
  const q = new Int8Array(inFeatures * outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    const inverse = scales[o] === 0 ? 0 : 1 / scales[o]!;
    for (let i = 0; i < inFeatures; i++) {
      const at = i * inStride + o * outStride;
      q[at] = Math.round(weights[at]! * inverse);
    }
  }
  return { q, scales };
}

/** Largest int16 magnitude an input is quantized to. */
const INT16_MAX = 32767;

/**
 * Per-row symmetric int16 quantization of the int8 kernel's inputs: scale[r] = max_i |x[r, i]| / 32767
 * (rounded to float32), xq[r, i] = round(x[r, i] / scale[r]), so |x - xq · scale| ≤ scale / 2. `xq` is
 * `[rows, 2 · ⌈in / 2⌉]`: after an odd `in`, each row ends with a 0 (the kernel takes indices in
 * pairs). A row of zeros gets scale 0.
 */
export function quantizeRowsInt16(
  x: Float32Array,
  rows: number,
  inFeatures: number,
  xq: Int16Array,
  scales: Float32Array,
): void {
  const stride = inFeatures + (inFeatures & 1);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * inFeatures, (r + 1) * inFeatures);
    let maxAbs = 0;
    for (let i = 0; i < inFeatures; i++) maxAbs = Math.max(maxAbs, Math.abs(row[i]!));
    const scale = Math.fround(maxAbs / INT16_MAX);
    scales[r] = scale;
    const target = xq.subarray(r * stride, (r + 1) * stride);
    if (scale === 0) {
      target.fill(0);
      continue;
    }
    for (let i = 0; i < inFeatures; i++) {
      target[i] = Math.max(-INT16_MAX, Math.min(INT16_MAX, Math.round(row[i]! / scale)));
    }
    if (stride > inFeatures) target[inFeatures] = 0;
  }
}
