import * as tf from '@tensorflow/tfjs-core';
import type { CacheImplementation, CausalLM } from '@tsformer/decoding';
import { fastDispatchesByKernel, fastDispatchStats } from '@tsformer/kernels';
import { round } from './measure.js';
import { type Counter, instrument, loadWithPrompt, useWebgpuKernels, zero } from './webgpu-decode-profile.js';

/** A prefill's forward as generate's first step runs it: every prompt token in, the last logits out. */
function prefillOnce(model: CausalLM, promptIds: number[], cacheImplementation: CacheImplementation) {
  const cache = model.createCache(1, promptIds.length + 1, cacheImplementation);
  const prompt = tf.tensor2d([promptIds], undefined, 'int32');
  const next = tf.tidy(() => {
    const logits = model.forwardLogits({ inputIds: prompt, cache, logitsToKeep: 1 }); // [1, 1, vocab]
    return tf.argMax(tf.reshape(logits, [-1]));
  });
  prompt.dispose();
  return { next, cache };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Where one prefill's wall time goes on the webgpu backend (the forward over every prompt token that
 * keeps the last logits, then its one read-back): medians over `runs` prefills of the wall time, the
 * forward's JavaScript (tfjs per op and tsformer's encoding), the wait for the read-back (the GPU work
 * JavaScript did not hide), and per prefill the time inside `runWebGPUProgram`, uniform and bind-group
 * creation and `queue.submit`; the dispatches by program — tfjs's by program class (`MatMulPackedProgram`,
 * `SoftmaxProgram`, …, with the JavaScript spent inside `runWebGPUProgram` for each), tsformer's by kernel
 * variant (`WgslKernel.key`) — submits, bind groups and read-backs.
 */
export async function profileWebgpuPrefill(
  model: CausalLM,
  promptIds: number[],
  runs: number,
  cacheImplementation: CacheImplementation,
) {
  // biome-ignore lint/suspicious/noExplicitAny: tfjs-backend-webgpu's backend, read structurally.
  const backend = tf.backend() as any;
  const timedPrefill = async () => {
    const start = performance.now();
    const { next, cache } = prefillOnce(model, promptIds, cacheImplementation);
    const encoded = performance.now();
    await next.data();
    const done = performance.now();
    next.dispose();
    cache.dispose();
    return { wallMs: done - start, javascriptMs: encoded - start, readbackWaitMs: done - encoded };
  };
  for (let i = 0; i < 2; i++) await timedPrefill(); // shaders compiled, buffers pooled

  // Uninstrumented: the prefill figure itself.
  const plain = [];
  for (let i = 0; i < runs; i++) plain.push(await timedPrefill());

  const byProgram = new Map<string, Counter>();
  const originalRun = backend.runWebGPUProgram;
  backend.runWebGPUProgram = function (
    this: unknown,
    program: { constructor: { name: string } },
    ...rest: unknown[]
  ) {
    const name = program.constructor.name;
    const counter = byProgram.get(name) ?? zero();
    byProgram.set(name, counter);
    const start = performance.now();
    try {
      return originalRun.call(this, program, ...rest);
    } finally {
      counter.ms += performance.now() - start;
      counter.calls += 1;
    }
  };
  const counters = { uniforms: zero(), bindGroups: zero(), submits: zero(), reads: zero() };
  const restore = [
    instrument(backend, 'makeUniforms', counters.uniforms),
    instrument(backend.device, 'createBindGroup', counters.bindGroups),
    instrument(backend.device.queue, 'submit', counters.submits),
    instrument(backend, 'read', counters.reads),
  ];
  const fastBefore = fastDispatchStats();
  const kernelsBefore = fastDispatchesByKernel();
  const profiled = [];
  for (let i = 0; i < runs; i++) profiled.push(await timedPrefill());
  for (const undo of restore) undo();
  backend.runWebGPUProgram = originalRun;
  const fastAfter = fastDispatchStats();
  const fast = (key: keyof typeof fastAfter) => fastAfter[key] - fastBefore[key];
  const byKernel = new Map<string, number>();
  for (const [key, count] of fastDispatchesByKernel()) {
    const calls = count - (kernelsBefore.get(key) ?? 0);
    if (calls > 0) byKernel.set(key, calls);
  }

  const perRun = (value: number) => round(value / runs, 3);
  const tfjsDispatches = [...byProgram.values()].reduce((total, counter) => total + counter.calls, 0);
  return {
    cache: cacheImplementation,
    promptTokens: promptIds.length,
    runs,
    prefillMs: round(median(plain.map((run) => run.wallMs)), 3),
    prefillTokensPerSecond: round((promptIds.length * 1000) / median(plain.map((run) => run.wallMs))),
    javascriptMs: round(median(plain.map((run) => run.javascriptMs)), 3),
    readbackWaitMs: round(median(plain.map((run) => run.readbackWaitMs)), 3),
    instrumented: {
      prefillMs: round(median(profiled.map((run) => run.wallMs)), 3),
      javascriptMs: round(median(profiled.map((run) => run.javascriptMs)), 3),
      insideRunWebGPUProgramMs: perRun(
        [...byProgram.values()].reduce((total, counter) => total + counter.ms, 0),
      ),
      makeUniformsMs: perRun(counters.uniforms.ms),
      createBindGroupMs: perRun(counters.bindGroups.ms),
      submitMs: perRun(counters.submits.ms),
    },
    dispatches: perRun(tfjsDispatches + fast('dispatches')),
    tsformerDispatches: perRun(fast('dispatches')),
    tsformerBindGroupHitRate: round(fast('bindGroupHits') / Math.max(1, fast('dispatches')), 3),
    submits: perRun(counters.submits.calls),
    bindGroups: perRun(counters.bindGroups.calls),
    readBacks: perRun(counters.reads.calls),
    tfjsPrograms: [...byProgram]
      .sort((a, b) => b[1].calls - a[1].calls)
      .map(([name, counter]) => ({ name, dispatches: perRun(counter.calls), jsMs: perRun(counter.ms) })),
    tsformerKernels: [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => ({ name, dispatches: perRun(calls) })),
  };
}

/**
 * The prefill profile of one model folder on webgpu with tsformer's WGSL kernels off, then on (the same
 * process, the same weights), for the dynamic and the static cache. With few `runs` and a short prompt it
 * fits WebGPU on the CPU (SwiftShader), where the counts are exact and the times are not.
 */
export async function measureWebgpuPrefill(folder: string, name: string, promptTokens: number, runs: number) {
  const { causal, prompt, numParameters, dispose } = await loadWithPrompt(folder, promptTokens);
  const rows = [];
  for (const kernels of [false, true]) {
    useWebgpuKernels(kernels);
    for (const cache of ['dynamic', 'static'] as const) {
      const profile = await profileWebgpuPrefill(causal, prompt, runs, cache);
      rows.push({ model: name, parameters: numParameters, webgpuKernels: kernels, profile });
      console.error(JSON.stringify(rows.at(-1)));
    }
  }
  useWebgpuKernels(true);
  dispose();
  return rows;
}
