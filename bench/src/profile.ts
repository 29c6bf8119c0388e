import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '@tsformer/decoding';
import { fromPretrained } from '@tsformer/models';
import { round } from './measure.js';

/**
 * Where one decode step's time goes on the current backend: the step's wall time against the sum of
 * its kernels' times, and the kernels that take the most. Tells per-op overhead from kernel cost.
 */
export async function profileDecodeStep(folder: string, contextTokens: number) {
  const { model: loaded } = await fromPretrained(folder);
  const model = loaded as unknown as CausalLM & { dispose(): void };
  const cache = model.createCache(1, contextTokens + 8);
  const step = (ids: number[]) =>
    tf.tidy(() => {
      const logits = model.forwardLogits({
        inputIds: tf.tensor2d([ids], undefined, 'int32'),
        cache,
        logitsToKeep: 1,
      });
      return tf.argMax(tf.reshape(logits, [-1]));
    });
  const prompt = Array.from({ length: contextTokens }, (_, i) => 5 + (i % 200));
  let next = step(prompt);
  await next.data();
  for (let i = 0; i < 3; i++) {
    const previous = next;
    next = step([7]);
    previous.dispose();
    await next.data();
  }
  const wallStart = performance.now();
  let profiled: tf.Tensor | undefined;
  const info = await tf.profile(async () => {
    profiled = step([7]);
    await profiled.data();
  });
  const wallMs = performance.now() - wallStart;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let kernelMs = 0;
  for (const kernel of info.kernels) {
    const ms = Number(await kernel.kernelTimeMs) || 0;
    kernelMs += ms;
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    byKernel.set(kernel.name, { ms: entry.ms + ms, calls: entry.calls + 1 });
  }
  tf.dispose([next, profiled!]);
  cache.dispose();
  model.dispose();
  return {
    contextTokens,
    kernels: info.kernels.length,
    wallMs: round(wallMs),
    kernelMsTotal: round(kernelMs),
    top: [...byKernel]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 10)
      .map(([name, v]) => ({ name, ms: round(v.ms), calls: v.calls })),
  };
}
