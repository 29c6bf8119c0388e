import * as tf from '@tensorflow/tfjs-core';
import { disableCpuAttention, enableCpuAttention } from '@tsformer/attention';
import type { CausalLM } from '@tsformer/decoding';
import { addNormalize, normalize, processKernelPool, registerCpuStepOps } from '@tsformer/kernels';
import { fromPretrained } from '@tsformer/models';
import { round } from './measure.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * A decode step with tsformer's CPU step kernels (decode attention, norms) on and off, interleaved in
 * one process (ABAB… rounds of `stepsPerArm` steps, the cache growing under both): the median step
 * wall time and process CPU time of each, and their ratios. The matrix products use the CPU kernels in both arms.
 */
export async function stepOpsAB(folder: string, contextTokens: number, rounds: number, stepsPerArm: number) {
  const { model: loaded } = await fromPretrained(folder);
  const model = loaded as unknown as CausalLM & { dispose(): void };
  const pool = await processKernelPool();
  const backend = tf.getBackend();
  const decline = () => undefined;
  // The removers of the norm implementations the current arm registered.
  let normRemovers: (() => void)[] = [];
  const switchNorms = (register: () => (() => void)[]) => {
    for (const remove of normRemovers) remove();
    normRemovers = register();
  };
  const arms = {
    on: () => {
      switchNorms(() => registerCpuStepOps(pool, backend));
      enableCpuAttention(pool);
    },
    off: () => {
      switchNorms(() => [normalize.register(backend, decline), addNormalize.register(backend, decline)]);
      disableCpuAttention();
    },
  };
  const cache = model.createCache(1, contextTokens + 2 * rounds * stepsPerArm + 16);
  const step = (ids: number[]) =>
    tf.tidy(() => {
      const logits = model.forwardLogits({
        inputIds: tf.tensor2d([ids], undefined, 'int32'),
        cache,
        logitsToKeep: 1,
      });
      return tf.argMax(tf.reshape(logits, [-1]));
    });
  let next = step(Array.from({ length: contextTokens }, (_, i) => 5 + (i % 200)));
  await next.data();
  // Wall ms and the process's CPU ms (all threads: on a machine shared with other work, CPU time is
  // the steadier hint, wall time what a user sees).
  const advance = async () => {
    const previous = next;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    next = step([7]);
    await next.data();
    previous.dispose();
    const cpu = process.cpuUsage(cpuStart);
    return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
  };
  const times: Record<keyof typeof arms, { wall: number; cpu: number }[]> = { on: [], off: [] };
  for (const arm of ['off', 'on'] as const) {
    arms[arm]();
    for (let i = 0; i < 3; i++) await advance(); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    for (const arm of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      arms[arm]();
      for (let i = 0; i < stepsPerArm; i++) times[arm].push(await advance());
    }
  }
  arms.on(); // leaves the step's kernels on, as fromPretrained had set them
  next.dispose();
  cache.dispose();
  model.dispose();
  const wall = (arm: keyof typeof arms) => median(times[arm].map((time) => time.wall));
  const cpu = (arm: keyof typeof arms) => median(times[arm].map((time) => time.cpu));
  return {
    backend,
    contextTokens,
    steps: times.on.length,
    stepMsKernelsOn: round(wall('on')),
    stepMsKernelsOff: round(wall('off')),
    speedup: round(wall('off') / wall('on'), 3),
    cpuMsKernelsOn: round(cpu('on')),
    cpuMsKernelsOff: round(cpu('off')),
    cpuSpeedup: round(cpu('off') / cpu('on'), 3),
  };
}
