import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { lineBytes, readCpuValues } from './cpu-values.js';
import type { KernelPool } from './kernel-pool.js';
import type { NormSpec } from './norm-ops.js';

/** What the kernel writes: the normalized rows and, after a residual add, the sum. */
interface NormalizedRows {
  normed: tf.Tensor;
  sum?: tf.Tensor;
}

/** Whether the kernel serves `spec` over `tensors`: float32, frozen parameters that hold tensors. */
function serves(spec: NormSpec, tensors: tf.Tensor[]): boolean {
  const parameters = [spec.weight, spec.kind === 'layer' ? spec.bias : undefined].filter(
    (parameter): parameter is Parameter => parameter !== undefined,
  );
  return (
    tensors.every((tensor) => tensor.dtype === 'float32' && tensor.size > 0) &&
    parameters.every((parameter) => !parameter.isTrainable && parameter.hasTensor)
  );
}

/**
 * The module's `normalizeRows` (assembly/normalize.ts) on the calling thread — a norm is a few
 * microseconds of work, less than waking the pool — over `input` `[..., hidden]`, plus `addend`
 * (a pre-norm block's delta) first when given. Inputs are copied into the pool's scratch, results copied out into new tensors.
 */
function normalizeOnCaller(
  pool: KernelPool,
  input: tf.Tensor,
  addend: tf.Tensor | undefined,
  spec: NormSpec,
): NormalizedRows {
  const hidden = input.shape[input.rank - 1]!;
  const count = input.size;
  const bytes = lineBytes(count);
  const hiddenBytes = lineBytes(hidden);
  // Scratch: input | addend | sum | output | weight | bias.
  const scratch = pool.scratch(4 * bytes + 2 * hiddenBytes);
  const inputAt = scratch;
  const addendAt = inputAt + bytes;
  const sumAt = addendAt + bytes;
  const outputAt = sumAt + bytes;
  const weightAt = scratch + 4 * bytes;
  const biasAt = weightAt + hiddenBytes;
  const memory = pool.heap.memory.buffer;
  const place = (at: number, tensor: tf.Tensor) =>
    new Float32Array(memory, at, tensor.size).set(readCpuValues(tensor));
  place(inputAt, input);
  if (addend) place(addendAt, addend);
  const weight = spec.weight?.tensor;
  const bias = spec.kind === 'layer' ? spec.bias?.tensor : undefined;
  if (weight) place(weightAt, weight);
  if (bias) place(biasAt, bias);
  pool.callOnCaller(
    'normalizeRows',
    inputAt,
    addend ? addendAt : 0,
    sumAt,
    outputAt,
    count / hidden,
    hidden,
    +(spec.kind === 'layer'),
    weight ? weightAt : 0,
    bias ? biasAt : 0,
    spec.kind === 'rms' ? spec.weightOffset : 0,
    spec.eps,
  );
  const result = (at: number) =>
    tf.tensor(new Float32Array(memory, at, count).slice(), input.shape, 'float32');
  return addend ? { normed: result(outputAt), sum: result(sumAt) } : { normed: result(outputAt) };
}

/** The kernel behind `normalize` on wasm and cpu; declines what `serves` does not cover. */
export function cpuNormalize(pool: KernelPool) {
  return (input: tf.Tensor, spec: NormSpec): tf.Tensor | undefined =>
    serves(spec, [input]) ? normalizeOnCaller(pool, input, undefined, spec).normed : undefined;
}

/** The kernel behind `addNormalize` on wasm and cpu: the add and the norm in one pass. */
export function cpuAddNormalize(pool: KernelPool) {
  return (
    residual: tf.Tensor,
    delta: tf.Tensor,
    spec: NormSpec,
  ): { sum: tf.Tensor; normed: tf.Tensor } | undefined => {
    if (!serves(spec, [residual, delta]) || !tf.util.arraysEqual(residual.shape, delta.shape)) {
      return undefined;
    }
    const { normed, sum } = normalizeOnCaller(pool, residual, delta, spec);
    return { sum: sum!, normed };
  };
}
