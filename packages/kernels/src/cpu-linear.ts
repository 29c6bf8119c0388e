import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { serveBatchMatMul } from './cpu-batch-matmul.js';
import { cpuGeluTanh } from './cpu-gelu.js';
import { registerCpuStepOps } from './cpu-step-ops.js';
import { readCpuValues } from './cpu-values.js';
import { embedding } from './embedding.js';
import { geluTanh } from './gelu.js';
import type { KernelPool } from './kernel-pool.js';
import { type LinearWeightLayout, linear } from './linear.js';
import { packedMatmul } from './packed-matmul.js';
import { packedLinearWeight } from './packed-parameter.js';
import { kernelThreadsFromEnv, processKernelPool } from './process-kernel-pool.js';

/** The tfjs backends whose tensors live in CPU memory: the kernel reads them without a device round trip. */
export const CPU_KERNEL_BACKENDS = ['wasm', 'cpu'] as const;

export interface CpuKernelsOptions {
  /**
   * Threads every product uses (at most the process pool's count, which its first use fixes).
   * Default `TSFORMER_KERNEL_THREADS`; when neither names a count, the pool gets the machine's cores
   * (`defaultKernelThreads`) and each product uses as many as its size pays for (`threadsForProduct`):
   * small models decode on one thread, GPT-2-size matrices and prefill on all.
   */
  threads?: number;
}

let removers: (() => void)[] = [];

/**
 * Serves the `linear` op (and `embedding`, `geluTanh`, `normalize` and `addNormalize`:
 * `registerCpuStepOps`, and tfjs's `BatchMatMul` kernel for attention's per-head products:
 * `serveBatchMatMul`) on the wasm and cpu backends with the WebAssembly kernels,
 * on the process's kernel pool (created once: `processKernelPool`). `fromPretrained` calls it when the model runs on
 * wasm or cpu; a later call changes the thread count only when it names one. Results equal the
 * portable tfjs path to float32 rounding (another summation order); a trainable weight still takes
 * the portable path, which records gradients.
 */
export async function enableCpuKernels(options: CpuKernelsOptions = {}): Promise<KernelPool> {
  const fixedThreads = options.threads ?? kernelThreadsFromEnv();
  const pool = await processKernelPool(fixedThreads);
  if (removers.length === 0 || options.threads !== undefined) {
    disableCpuKernels();
    const linearKernel = cpuLinear(pool, fixedThreads);
    const embeddingKernel = cpuEmbedding(pool);
    removers = CPU_KERNEL_BACKENDS.flatMap((backend) => [
      linear.register(backend, linearKernel),
      embedding.register(backend, embeddingKernel),
      geluTanh.register(backend, cpuGeluTanh(pool, readCpuValues)),
      ...[serveBatchMatMul(pool, backend) ?? []].flat(),
      ...registerCpuStepOps(pool, backend),
    ]);
  }
  return pool;
}

/**
 * Gives `linear`, `embedding`, `geluTanh`, `normalize` and `addNormalize` back to their portable
 * implementations and `BatchMatMul` back to tfjs's kernel on wasm and cpu (the pool stays, idle).
 */
export function disableCpuKernels(): void {
  for (const remove of removers) remove();
  removers = [];
}

/** Whether `enableCpuKernels` is in effect. */
export function cpuKernelsEnabled(): boolean {
  return removers.length > 0;
}

/**
 * The kernel behind `linear`: packs the weight once (a derived layout of the Parameter, freed when
 * it is written) unless it was loaded packed (`loadPackedLinearWeight`), and multiplies any number
 * of rows (decode's one, prefill's many) on `fixedThreads` threads, or as many as the product's size
 * pays for.
 */
function cpuLinear(pool: KernelPool, fixedThreads: number | undefined) {
  return (
    x: tf.Tensor,
    weight: Parameter,
    bias?: Parameter,
    layout: LinearWeightLayout = 'out-in',
  ): tf.Tensor | undefined => {
    if (weight.isTrainable || bias?.isTrainable || x.dtype !== 'float32' || x.size === 0) return undefined;
    const packed = packedLinearWeight(pool, weight, layout, readCpuValues);
    const input = readCpuValues(x);
    const biasValues = bias ? readCpuValues(bias.tensor) : undefined;
    const rows = input.length / packed.inFeatures;
    const y = packedMatmul(packed, input, rows, biasValues, fixedThreads); // [rows, out]
    return tf.tensor(y, [...x.shape.slice(0, -1), packed.outFeatures], 'float32');
  };
}

/**
 * The lookup behind `embedding` for a table held only as its packed copy (loaded packed because a
 * tied head multiplies by it, or to keep one copy): its columns, read straight from the panels.
 * A table that has a tensor keeps tfjs's gather.
 */
function cpuEmbedding(pool: KernelPool) {
  return (ids: tf.Tensor, table: Parameter): tf.Tensor | undefined => {
    if (table.hasTensor || table.isTrainable || ids.dtype !== 'int32') return undefined;
    const packed = packedLinearWeight(pool, table, 'out-in', readCpuValues);
    const rows = packed.columns(tf.backend().readSync(ids.dataId) as Int32Array); // [tokens, dim]
    return tf.tensor(rows, [...ids.shape, packed.inFeatures], 'float32');
  };
}
