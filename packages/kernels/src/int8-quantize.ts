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
