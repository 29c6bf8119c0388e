import * as tf from '@tensorflow/tfjs-core';
import {
  GEMM_MIN_ROWS,
  KernelPool,
  kernelRelaxedSimdFromEnv,
  PACKED_DTYPES,
  type PackedWeight,
  packedMatmul,
  packWeight,
} from '@tsformer/kernels';
import type { BandwidthFigure } from './bandwidth-probe.js';

/** GPT-2-124M's matrix shapes [in, out]: c_attn, attn c_proj, mlp c_fc, mlp c_proj, lm_head. */
export const GPT2_SHAPES: readonly [string, number, number][] = [
  ['attn.c_attn', 768, 2304],
  ['attn.c_proj', 768, 768],
  ['mlp.c_fc', 768, 3072],
  ['mlp.c_proj', 3072, 768],
  ['lm_head', 768, 50257],
];

export interface KernelFigure {
  matrix: string;
  inFeatures: number;
  outFeatures: number;
  rows: number;
  threads: number;
  /** `tfjs-matMul` (tfjs's backend, fp32) or `kernel-<dtype>` (the kernels package). */
  implementation: string;
  /** The kernels package's product for these rows (`packedMatmul`'s choice): `skinny` or `gemm`. */
  kernel?: 'skinny' | 'gemm';
  /** Whether the kernels ran their relaxed-SIMD build (fused multiply-adds). */
  relaxedSimd?: boolean;
  /** Median time of one product. */
  microseconds: number;
  /** Weight bytes streamed per second (activations are negligible at these row counts). */
  gbPerSecond: number;
  /** 2 · rows · in · out per second, in 10^9: what bounds many-row products. */
  gflopPerSecond: number;
  /** Of the bandwidth probe's figure for the same thread count, same run. */
  percentOfLimit: number;
}

/** Copies of a weight cycled through, so that together they exceed the caches as a model's weights do. */
const ROTATION_BYTES = 256 * 2 ** 20;
const MEASURED_CALLS = 30;

/**
 * The kernel (`packedMatmul`: the skinny matmul for 1 row, the GEMM from 2) against tfjs `matMul` for
 * GPT-2-124M's shapes, each weight dtype, rows 1, 4 and 8 (8: a decode step of 8 requests), on
 * `threads` threads (the kernel pool's; tfjs's are fixed when its backend starts, the same count).
 * Each product uses the next of several copies of its weight (≥ 256 MiB together), so that weights
 * come from DRAM as they do in a decode step, not from a cache that one small matrix would fit.
 */
export async function benchmarkKernels(
  threads: number,
  limits: readonly BandwidthFigure[],
): Promise<KernelFigure[]> {
  const limit = limits.find((figure) => figure.threads === threads)?.gbPerSecond ?? Number.NaN;
  const pool = await KernelPool.create({ threads, relaxedSimd: kernelRelaxedSimdFromEnv() });
  const figures: KernelFigure[] = [];
  for (const [matrix, inFeatures, outFeatures] of GPT2_SHAPES) {
    const values = Float32Array.from({ length: inFeatures * outFeatures }, (_, k) => Math.sin(k) * 0.02);
    const bias = Float32Array.from({ length: outFeatures }, (_, k) => Math.cos(k) * 0.02);
    const copies = Math.max(1, Math.min(16, Math.ceil(ROTATION_BYTES / values.byteLength)));
    for (const rows of [1, 4, 8]) {
      const x = Float32Array.from({ length: rows * inFeatures }, (_, k) => Math.sin(k * 0.37));
      const row = (implementation: string, seconds: number, bytes: number): KernelFigure => {
        const gbPerSecond = bytes / seconds / 1e9;
        return {
          matrix,
          inFeatures,
          outFeatures,
          rows,
          threads,
          implementation,
          microseconds: Math.round(seconds * 1e7) / 10,
          gbPerSecond: Math.round(gbPerSecond * 10) / 10,
          gflopPerSecond: Math.round((2 * rows * inFeatures * outFeatures) / seconds / 1e8) / 10,
          percentOfLimit: Math.round((gbPerSecond / limit) * 1000) / 10,
        };
      };
      // tfjs: x · W + b as Linear computes it today.
      const weights = Array.from({ length: copies }, () => tf.tensor2d(values, [inFeatures, outFeatures]));
      const biasTensor = tf.tensor1d(bias);
      const input = tf.tensor2d(x, [rows, inFeatures]);
      const tfjsSeconds = medianSeconds(copies, (k) => {
        const y = tf.tidy(() => tf.add(tf.matMul(input, weights[k]!), biasTensor));
        y.dataSync();
        y.dispose();
      });
      tf.dispose([...weights, biasTensor, input]);
      figures.push(row('tfjs-matMul', tfjsSeconds, values.byteLength));
      for (const dtype of PACKED_DTYPES) {
        const source = { dtype: 'fp32' as const, data: values, shape: [inFeatures, outFeatures] };
        const packed: PackedWeight[] = Array.from({ length: copies }, () =>
          packWeight(pool, source, { dtype }),
        );
        const seconds = medianSeconds(copies, (k) => packedMatmul(packed[k]!, x, rows, bias));
        figures.push({
          ...row(`kernel-${dtype}`, seconds, packed[0]!.bytes),
          // int8 weights take the skinny matmul's integer kernel at every row count.
          kernel: rows >= GEMM_MIN_ROWS && dtype !== 'int8' ? 'gemm' : 'skinny',
          relaxedSimd: pool.relaxedSimd,
        });
        for (const weight of packed) weight.free();
      }
      console.error(JSON.stringify(figures.slice(-5)));
    }
  }
  await pool.terminate();
  return figures;
}

/** Median seconds of `run(k)` over MEASURED_CALLS calls after a warm-up round, k cycling 0 .. copies-1. */
function medianSeconds(copies: number, run: (k: number) => void): number {
  for (let k = 0; k < copies; k++) run(k);
  const times: number[] = [];
  for (let call = 0; call < MEASURED_CALLS; call++) {
    const start = performance.now();
    run(call % copies);
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
