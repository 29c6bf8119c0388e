import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { SeededRandom } from '../random.js';

/**
 * Runs `fn` and throws if it leaves tensors alive: `tf.memory().numTensors` must be back where it
 * started. Every model and decoding test wraps its work in this.
 */
export async function expectNoLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`tensor leak: ${after - before} tensor(s) left alive (${before} before, ${after} after)`);
  }
  return result;
}

export interface Closeness {
  maxAbsDiff: number;
  worstIndex: number;
}

/**
 * Throws unless `actual` and `expected` have the same shape and every element is within `atol`
 * (infinities must match exactly, NaN never passes). Returns the largest difference found.
 */
export function assertClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: tf.Tensor | ArrayLike<number>,
  atol: number,
  label = 'tensor',
): Closeness {
  if (
    actual instanceof tf.Tensor &&
    expected instanceof tf.Tensor &&
    actual.shape.join() !== expected.shape.join()
  ) {
    throw new Error(`${label}: shape [${actual.shape}] differs from expected [${expected.shape}]`);
  }
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  if (a.length !== e.length) throw new Error(`${label}: ${a.length} elements, expected ${e.length}`);
  let worst: Closeness = { maxAbsDiff: 0, worstIndex: -1 };
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y) throw new Error(`${label}: element ${i} is ${x}, expected ${y}`);
      continue;
    }
    const diff = Math.abs(x - y);
    if (!(diff <= worst.maxAbsDiff)) worst = { maxAbsDiff: diff, worstIndex: i };
  }
  if (!(worst.maxAbsDiff <= atol)) {
    const i = worst.worstIndex;
    throw new Error(
      `${label}: max |diff| ${worst.maxAbsDiff.toExponential(3)} > atol ${atol} at element ${i} (${a[i]} vs ${e[i]})`,
    );
  }
  return worst;
}

/** Fills every parameter of `module` with seeded normal values of standard deviation `std`. */
export function randomWeights(module: Module, seed = 0, std = 0.02): void {
  const random = new SeededRandom(seed);
  for (const parameter of module.parameters()) {
    parameter.assign(tf.tensor(random.normalArray(parameter.size, std), [...parameter.shape], 'float32'));
  }
}
export {
  makeUnusablePath,
  runsAsRoot,
  UNUSABLE_PATH_KINDS,
  UNUSABLE_PATH_REPORTS,
  type UnusablePathKind,
} from './unusable-paths.js';
