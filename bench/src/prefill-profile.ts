import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '@tsformer/decoding';
import {
  GEMM_MIN_ROWS,
  packedMatmul,
  packWeight,
  processKernelPool,
  threadsForProduct,
} from '@tsformer/kernels';
import { fromPretrained } from '@tsformer/models';
import { GPT2_SHAPES } from './kernel-bench.js';
import { round } from './measure.js';

/** Timed prefills of which the median is reported. */
const TIMED_RUNS = 5;

/**
 * Where a prefill's time goes (issue 12): one forward over `promptTokens` tokens that keeps the last
 * logits, as generate's first step runs it. Reports the wall time (median of 5), tfjs's kernels by
 * name from `tf.profile` (attention's batched matMuls and softmax, layer norm's element-wise ops:
 * everything the model does in tfjs), the rest of the wall time (tsformer's linear and GELU kernels,
 * which are not tfjs kernels, and JavaScript between ops), and the linear kernel alone on
 * GPT-2-124M's shapes at `promptTokens` rows (the lm head at 1 row), with the threads it chose.
 */
export async function profilePrefill(folder: string, promptTokens: number, cpuKernels: boolean) {
  const { model: loaded } = await fromPretrained(folder, { cpuKernels });
  const model = loaded as unknown as CausalLM & { dispose(): void };
  const prompt = Array.from({ length: promptTokens }, (_, i) => 5 + ((i * 37) % 5000));
  const prefill = async () => {
    const cache = model.createCache(1, promptTokens + 8);
    const next = tf.tidy(() => {
      const logits = model.forwardLogits({
        inputIds: tf.tensor2d([prompt], undefined, 'int32'),
        cache,
        logitsToKeep: 1,
      });
      return tf.argMax(tf.reshape(logits, [-1]));
    });
    await next.data();
    next.dispose();
    cache.dispose();
  };
  for (let i = 0; i < 2; i++) await prefill();
  const wall: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const start = performance.now();
    await prefill();
    wall.push(performance.now() - start);
  }
  const wallMs = median(wall);

  const byKernel = new Map<string, { ms: number; calls: number }>();
  let kernelMs = 0;
  const info = await tf.profile(prefill);
  for (const kernel of info.kernels) {
    const ms = Number(await kernel.kernelTimeMs) || 0;
    kernelMs += ms;
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    byKernel.set(kernel.name, { ms: entry.ms + ms, calls: entry.calls + 1 });
  }
  model.dispose();

  return {
    promptTokens,
    cpuKernels,
    prefillWallMs: round(wallMs),
    prefillTokensPerSecond: round((promptTokens / wallMs) * 1000),
    tfjsKernelMs: round(kernelMs),
    outsideTfjsKernelsMs: round(wallMs - kernelMs),
    tfjsKernels: [...byKernel]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([name, v]) => ({ name, ms: round(v.ms), calls: v.calls })),
    linearKernel: cpuKernels ? await timeLinearShapes(promptTokens) : [],
  };
}

/** GPT-2-124M's layers repeat 12 times; the head runs once on the last row. */
const LAYERS = 12;

/**
 * The linear kernel alone as `linear` runs it (`packedMatmul`: the GEMM from GEMM_MIN_ROWS rows), fp32,
 * on the process's pool: median ms per product and per prefill.
 */
async function timeLinearShapes(rows: number) {
  const pool = await processKernelPool();
  const figures = [];
  for (const [matrix, inFeatures, outFeatures] of GPT2_SHAPES) {
    const productRows = matrix === 'lm_head' ? 1 : rows;
    const values = Float32Array.from({ length: inFeatures * outFeatures }, (_, k) => Math.sin(k) * 0.02);
    const weight = packWeight(pool, { dtype: 'fp32', data: values, shape: [inFeatures, outFeatures] });
    const x = Float32Array.from({ length: productRows * inFeatures }, (_, k) => Math.sin(k * 0.37));
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      const start = performance.now();
      packedMatmul(weight, x, productRows);
      times.push(performance.now() - start);
    }
    weight.free();
    const ms = median(times.slice(2));
    const perPrefill = matrix === 'lm_head' ? 1 : LAYERS;
    figures.push({
      matrix,
      rows: productRows,
      kernel: productRows >= GEMM_MIN_ROWS ? 'gemm' : 'skinnyMatmul',
      threads: threadsForProduct(weight.bytes, productRows, pool.threads),
      ms: round(ms, 3),
      gflops: round((2 * productRows * inFeatures * outFeatures) / ms / 1e6),
      msPerPrefill: round(ms * perPrefill),
    });
  }
  return figures;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
