import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { disableWebgpuAttention, enableWebgpuAttention } from '@tsformer/attention';
import type { CausalLM } from '@tsformer/decoding';
import { disableWebgpuKernels, enableWebgpuKernels, fastDispatchStats } from '@tsformer/kernels';
import { fromPretrained } from '@tsformer/models';
import { measureForwardDecode, promptOfLength, round } from './measure.js';

/** What one call of a wrapped function costs: how many calls, and milliseconds spent inside. */
export interface Counter {
  calls: number;
  ms: number;
}

/**
 * Counts and times the calls of `object[method]` (wrapped in place) until `restore()`.
 * biome-ignore lint/suspicious/noExplicitAny: instruments untyped backend and Dawn objects.
 */
export function instrument(object: any, method: string, counter: Counter): () => void {
  const original = object[method];
  object[method] = function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      counter.ms += performance.now() - start;
      counter.calls += 1;
    }
  };
  return () => {
    object[method] = original;
  };
}

export const zero = (): Counter => ({ calls: 0, ms: 0 });

/**
 * Where a decode step's wall time goes on the webgpu backend, averaged over `steps` steps after a
 * prefill of `promptTokens`: the forward's JavaScript (tfjs per op, our programs' encoding), within it
 * the time inside `runWebGPUProgram` (shader-key lookup, uniforms, bind group, encoding), uniform-buffer
 * and bind-group creation, `queue.submit`, then the wait for the step's one read-back. Also the dispatch
 * (tfjs's programs plus tsformer's `dispatchKernel`, with its bind-group hit rate), submit and read-back
 * counts per step, and the floor of a read-back (a 1-element op, then `data()`).
 */
export async function profileWebgpuStep(model: CausalLM, promptIds: number[], steps: number) {
  // biome-ignore lint/suspicious/noExplicitAny: tfjs-backend-webgpu's backend, read structurally.
  const backend = tf.backend() as any;
  const counters = {
    dispatches: zero(),
    uniforms: zero(),
    bindGroups: zero(),
    submits: zero(),
    reads: zero(),
  };
  const cache = model.createCache(1, promptIds.length + steps + 1, 'static');
  const step = (inputIds: tf.Tensor2D) =>
    tf.tidy(() => {
      const logits = model.forwardLogits({ inputIds, cache, logitsToKeep: 1 }); // [1, 1, vocab]
      return tf.cast(tf.reshape(tf.argMax(logits, -1), [1, 1]), 'int32') as tf.Tensor2D;
    });
  const prompt = tf.tensor2d([promptIds], undefined, 'int32');
  let next = step(prompt);
  prompt.dispose();
  await next.data();
  const restore = [
    instrument(backend, 'runWebGPUProgram', counters.dispatches),
    instrument(backend, 'makeUniforms', counters.uniforms),
    instrument(backend.device, 'createBindGroup', counters.bindGroups),
    instrument(backend.device.queue, 'submit', counters.submits),
    instrument(backend, 'read', counters.reads),
  ];
  const fastBefore = fastDispatchStats();
  let javascriptMs = 0;
  let readbackWaitMs = 0;
  const wallStart = performance.now();
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    const input = next;
    next = step(input);
    input.dispose();
    const encoded = performance.now();
    await next.data();
    javascriptMs += encoded - start;
    readbackWaitMs += performance.now() - encoded;
  }
  const wallMs = performance.now() - wallStart;
  for (const undo of restore) undo();
  const fastAfter = fastDispatchStats();
  const fast = (key: keyof typeof fastAfter) => fastAfter[key] - fastBefore[key];
  next.dispose();
  cache.dispose();

  const floor = [];
  for (let i = 0; i < 20; i++) {
    const a = tf.scalar(i);
    const start = performance.now();
    const b = tf.add(a, 1);
    await b.data();
    floor.push(performance.now() - start);
    tf.dispose([a, b]);
  }
  floor.sort((x, y) => x - y);
  const perStep = (value: number) => round(value / steps, 3);
  return {
    steps,
    stepMs: perStep(wallMs),
    javascriptMs: perStep(javascriptMs),
    insideRunWebGPUProgramMs: perStep(counters.dispatches.ms),
    makeUniformsMs: perStep(counters.uniforms.ms),
    createBindGroupMs: perStep(counters.bindGroups.ms),
    submitMs: perStep(counters.submits.ms),
    readbackWaitMs: perStep(readbackWaitMs),
    dispatchesPerStep: perStep(counters.dispatches.calls + fast('dispatches')),
    tsformerDispatchesPerStep: perStep(fast('dispatches')),
    tsformerBindGroupHitRate: round(fast('bindGroupHits') / Math.max(1, fast('dispatches')), 3),
    tsformerUniformWritesPerStep: perStep(fast('uniformWrites')),
    submitsPerStep: perStep(counters.submits.calls),
    bindGroupsPerStep: perStep(counters.bindGroups.calls),
    readBacksPerStep: perStep(counters.reads.calls),
    readbackFloorMedianMs: round(floor[10]!, 3),
  };
}

/** A model folder loaded for the webgpu runs, with a prompt of `promptTokens` tokens from its tokenizer. */
export async function loadWithPrompt(folder: string, promptTokens: number) {
  const { model, tokenizer } = await fromPretrained(folder);
  const prompt = promptOfLength(
    tokenizer!.encode('Return the number of elements along a given axis.'),
    promptTokens,
  );
  return {
    causal: model as unknown as CausalLM,
    prompt,
    numParameters: model.numParameters(),
    dispose: () => model.dispose(),
  };
}

/** tsformer's WGSL kernels on webgpu, the layers' and attention's together, on or off. */
export function useWebgpuKernels(on: boolean): void {
  if (on) {
    enableWebgpuKernels();
    enableWebgpuAttention();
  } else {
    disableWebgpuKernels();
    disableWebgpuAttention();
  }
}

/**
 * The decode and prefill figures of one model folder on webgpu with tsformer's WGSL kernels off, then
 * on (the same process, the same weights), each with its step profile.
 */
export async function measureWebgpuModel(
  folder: string,
  name: string,
  promptTokens: number,
  newTokens: number,
) {
  const { causal, prompt, numParameters, dispose } = await loadWithPrompt(folder, promptTokens);
  const rows = [];
  for (const kernels of [false, true]) {
    useWebgpuKernels(kernels);
    await measureForwardDecode(causal, prompt.slice(0, 8), 4, 1, 'static'); // compile the shaders
    const figures = [];
    for (const cache of ['dynamic', 'static'] as const) {
      await measureForwardDecode(causal, prompt, 8, 1, cache);
      figures.push(await measureForwardDecode(causal, prompt, newTokens, 1, cache));
    }
    const profile = await profileWebgpuStep(causal, prompt, 32);
    rows.push({ model: name, parameters: numParameters, webgpuKernels: kernels, figures, profile });
    console.error(JSON.stringify(rows.at(-1)));
  }
  useWebgpuKernels(true);
  dispose();
  return rows;
}

/**
 * The per-step counts alone (dispatches, bind groups, submits, read-backs) of one model folder with
 * tsformer's WGSL kernels off, then on: a few profiled steps, no throughput runs, so it fits WebGPU on
 * the CPU (SwiftShader), where the counts are exact and the times are not.
 */
export async function countWebgpuDispatches(
  folder: string,
  name: string,
  promptTokens: number,
  steps: number,
) {
  const { causal, prompt, numParameters, dispose } = await loadWithPrompt(folder, promptTokens);
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  const layers: number = config.num_hidden_layers ?? config.n_layer;
  const rows = [];
  for (const kernels of [false, true]) {
    useWebgpuKernels(kernels);
    await profileWebgpuStep(causal, prompt, 2); // compiles the shaders and makes the bf16 weight copies
    const profile = await profileWebgpuStep(causal, prompt, steps);
    const tfjs = profile.dispatchesPerStep - profile.tsformerDispatchesPerStep;
    // A step's dispatches over its layers (the embedding, final norm and head counted in).
    const perLayer = {
      layers,
      tsformer: round(profile.tsformerDispatchesPerStep / layers, 2),
      tfjs: round(tfjs / layers, 2),
    };
    rows.push({ model: name, parameters: numParameters, webgpuKernels: kernels, perLayer, profile });
    console.error(JSON.stringify(rows.at(-1)));
  }
  useWebgpuKernels(true);
  dispose();
  return rows;
}
