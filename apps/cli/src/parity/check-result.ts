import type * as tf from '@tensorflow/tfjs-core';
import { assertClose, type Closeness } from '@tsformer/core-tensor/testing';

/**
 * The outcome of one parity check: `tie` is a generate case that differs where HF's own top-2 margin
 * was a near-tie; `note` is a fact reported, not compared (which rule judged the training checks).
 */
export type CheckStatus = 'pass' | 'fail' | 'tie' | 'note';

export interface CheckResult {
  /** What was checked: `tokenization[0] ids`, `forward.0.logits`, `generate beam4_ret2`, ... */
  name: string;
  status: CheckStatus;
  /** The evidence: the largest difference, or where and how it failed. */
  detail: string;
}

/** Runs one check; a thrown error is that check's failure (the others still run). */
export async function runCheck(name: string, check: () => Promise<string> | string): Promise<CheckResult> {
  try {
    return { name, status: 'pass', detail: await check() };
  } catch (error) {
    return { name, status: 'fail', detail: error instanceof Error ? error.message : String(error) };
  }
}

/** A check that failed on purpose: `detail` says why. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** Passed and failed counts: a tie or a note counts as passed. */
export function tally(results: readonly CheckResult[]): { passed: number; failed: number } {
  const failed = results.filter((result) => result.status === 'fail').length;
  return { passed: results.length - failed, failed };
}

/** One line per check: `PASS name  detail`. */
export function formatCheck(result: CheckResult): string {
  const label = { pass: 'PASS', fail: 'FAIL', tie: 'TIE ', note: 'NOTE' }[result.status];
  return `${label} ${result.name}${result.detail ? `  ${result.detail}` : ''}`;
}

/**
 * `assertClose` on two tensors read with `await data()`: a check never reads a tensor synchronously,
 * which the webgpu backend cannot do in Node. Throws when the shapes differ.
 */
export async function assertTensorsClose(
  actual: tf.Tensor,
  expected: tf.Tensor,
  atol: number,
  label: string,
): Promise<Closeness> {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new CheckFailure(`${label}: shape [${actual.shape}] differs from expected [${expected.shape}]`);
  }
  const [actualValues, expectedValues] = await Promise.all([actual.data(), expected.data()]);
  return assertClose(actualValues as Float32Array, expectedValues as Float32Array, atol, label);
}
