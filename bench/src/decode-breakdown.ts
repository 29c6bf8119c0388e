import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '@tsformer/decoding';
import { KernelPool, PACKED_DTYPES, processKernelPool } from '@tsformer/kernels';
import { fromPretrained, type LowerPrecisionDtype } from '@tsformer/models';
import { round } from './measure.js';

type SkinnyMatmulArgs = Parameters<KernelPool['run']>[1];

/** Bytes per packed weight element. */
const ELEMENT_BYTES = { fp32: 4, bf16: 2, fp16: 2, int8: 1 } as const;

interface ProductTimes {
  calls: number;
  ms: number;
  waitMs: number;
  bytes: number;
  flops: number;
}

/**
 * Where a decode step's time goes with tsformer's CPU kernels on (wasm/cpu), for `batch` rows decoded
 * together (1: one sequence; 8: what 8 concurrent requests of the server make): the step's wall time;
 * the time inside `KernelPool.run` (the matrix products: the chunks the calling thread ran plus its
 * wait for the workers' last chunks), per matrix shape with the GB/s of weights each
 * streams; the time inside tfjs's kernels (what tsformer's kernels leave to tfjs: the cache's append, the
 * q/k/v split, adds; `tf.profile` on extra steps); the time inside tsformer's kernels that run on the calling thread (`KernelPool.callOnCaller`:
 * decode attention, norms, GELU), by name; and the rest (JavaScript around them: op dispatch, the
 * kernels' copies in and out).
 * Medians over `steps` steps at a context of `contextTokens`.
 */
export async function decodeStepBreakdown(
  folder: string,
  contextTokens: number,
  steps: number,
  dtype?: LowerPrecisionDtype,
  batch = 1,
) {
  const { model: loaded } = await fromPretrained(folder, dtype ? { dtype } : {});
  const model = loaded as unknown as CausalLM & { dispose(): void };
  const cache = model.createCache(batch, contextTokens + 2 * steps + 8);
  // Every row the same ids: each step multiplies `batch` rows, as a batch of requests does.
  const step = (ids: number[]) =>
    tf.tidy(() => {
      const logits = model.forwardLogits({
        inputIds: tf.tensor2d(
          Array.from({ length: batch }, () => ids),
          undefined,
          'int32',
        ),
        cache,
        logitsToKeep: 1,
      }); // [batch, 1, vocab]
      return tf.argMax(tf.reshape(logits, [batch, -1]), -1);
    });
  let next = step(Array.from({ length: contextTokens }, (_, i) => 5 + (i % 200)));
  await next.data();
  const advance = async () => {
    const previous = next;
    next = step([7]);
    previous.dispose();
    await next.data();
  };
  for (let i = 0; i < 3; i++) await advance();

  const products = new Map<string, ProductTimes>();
  let current: ProductTimes | undefined;
  const prototype = KernelPool.prototype as unknown as {
    run(op: number, args: SkinnyMatmulArgs, threads?: number): void;
    callOnCaller(name: string, ...args: number[]): void;
    waitForChunks(chunks: number): void;
  };
  const run = prototype.run;
  const wait = prototype.waitForChunks;
  prototype.run = function (this: KernelPool, op, args, threads) {
    // Ops past the skinny matmul's (one per dtype) are the GEMM's, in the same dtype order.
    const dtype = PACKED_DTYPES[op % PACKED_DTYPES.length]!;
    const kernel = op < PACKED_DTYPES.length ? 'skinny' : 'gemm';
    const key = `${kernel} ${dtype} ${args.rows}×${args.inFeatures}→${args.outFeatures}`;
    const entry = products.get(key) ?? { calls: 0, ms: 0, waitMs: 0, bytes: 0, flops: 0 };
    products.set(key, entry);
    current = entry;
    const start = performance.now();
    run.call(this, op, args, threads);
    entry.ms += performance.now() - start;
    entry.calls++;
    entry.bytes += Math.ceil(args.outFeatures / 16) * 16 * args.inFeatures * ELEMENT_BYTES[dtype];
    entry.flops += 2 * args.rows * args.inFeatures * args.outFeatures;
  };
  prototype.waitForChunks = function (this: KernelPool, chunks: number) {
    const start = performance.now();
    wait.call(this, chunks);
    current!.waitMs += performance.now() - start;
  };
  // tsformer's kernels outside the products, which run on the calling thread (decode attention,
  // norms, GELU): time inside the module's export, by name.
  const onCaller = new Map<string, number>();
  const callOnCaller = prototype.callOnCaller;
  prototype.callOnCaller = function (this: KernelPool, name, ...args) {
    const start = performance.now();
    callOnCaller.call(this, name, ...args);
    onCaller.set(name, (onCaller.get(name) ?? 0) + performance.now() - start);
  };
  const callerTotal = () => sum([...onCaller.values()]);
  const wallMs: number[] = [];
  const productMs: number[] = [];
  const callerMs: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const before = [...products.values()].reduce((sum, p) => sum + p.ms, 0);
      const callerBefore = callerTotal();
      const start = performance.now();
      await advance();
      wallMs.push(performance.now() - start);
      productMs.push([...products.values()].reduce((sum, p) => sum + p.ms, 0) - before);
      callerMs.push(callerTotal() - callerBefore);
    }
  } finally {
    prototype.run = run;
    prototype.waitForChunks = wait;
    prototype.callOnCaller = callOnCaller;
  }
  // tfjs's own kernels, on a few more steps (tf.profile slows the step it watches).
  const tfjsMs: number[] = [];
  const byKernel = new Map<string, number>();
  for (let i = 0; i < Math.min(steps, 5); i++) {
    let stepMs = 0;
    const info = await tf.profile(advance);
    for (const kernel of info.kernels) {
      const ms = Number(await kernel.kernelTimeMs) || 0;
      stepMs += ms;
      byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + ms);
    }
    tfjsMs.push(stepMs);
  }
  const profiled = tfjsMs.length;
  next.dispose();
  cache.dispose();
  model.dispose();
  const stepMs = median(wallMs);
  const matmulMs = median(productMs);
  const tfjsKernelMs = median(tfjsMs);
  const onCallerMs = median(callerMs);
  return {
    batch,
    relaxedSimd: (await processKernelPool()).relaxedSimd,
    contextTokens,
    steps,
    stepMs: round(stepMs),
    matrixProductsMs: round(matmulMs),
    matrixProductsWaitMs: round(sum([...products.values()].map((p) => p.waitMs)) / steps),
    tfjsKernelsMs: round(tfjsKernelMs),
    callerKernelsMs: round(onCallerMs),
    otherMs: round(stepMs - matmulMs - tfjsKernelMs - onCallerMs),
    products: [...products].map(([shape, p]) => ({
      shape,
      callsPerStep: p.calls / steps,
      msPerStep: round(p.ms / steps),
      waitMsPerStep: round(p.waitMs / steps),
      gbPerSecond: round(p.bytes / p.ms / 1e6),
      gflopPerSecond: round(p.flops / p.ms / 1e6),
    })),
    callerKernels: [...onCaller].map(([name, ms]) => ({ name, msPerStep: round(ms / steps) })),
    tfjsKernels: [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([name, ms]) => ({ name, msPerStep: round(ms / profiled) })),
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
