import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from './backend.js';
import { enableGradients, gradientsEnabled } from './gradients-support.js';
import { expectNoLeak } from './testing/index.js';

const table = [
  [1, 2],
  [3, 4],
  [5, 6],
];
const ids = [2, 0, 2, 2];
const weights = [
  [1, -2],
  [0.5, 4],
  [3, 0.25],
  [-1, 1],
];

/** d sum(gather(table, ids) * weights) / d table, by hand: row `ids[i]` collects `weights[i]`. */
function expectedTableGradient(): number[][] {
  const gradient = table.map((row) => row.map(() => 0));
  ids.forEach((id, i) => {
    weights[i]!.forEach((w, j) => {
      gradient[id]![j]! += w;
    });
  });
  return gradient;
}

/** The same computation as the subprocess below, under vitest. */
async function gatherGradient(): Promise<number[][]> {
  const input = tf.tensor2d(table);
  const gradient = tf.grad((t: tf.Tensor) =>
    tf.tidy(() => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), tf.tensor2d(weights)))),
  )(input);
  const values = (await gradient.array()) as number[][];
  tf.dispose([input, gradient]);
  return values;
}

describe('enableGradients', () => {
  it('differentiates gather on cpu and wasm under vitest, leaving nothing behind', async () => {
    await enableGradients();
    expect(gradientsEnabled()).toBe(true);
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      let values: number[][] = [];
      await expectNoLeak(async () => {
        values = await gatherGradient();
      });
      expect(values, backend).toEqual(expectedTableGradient());
    }
  });

  it('differentiates gather from plain Node ESM (the built package, as the CLI loads it)', async () => {
    // Resolves @tsformer/core-tensor by self-reference: dist/index.js, with no vite or bundler.
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { enableGradients, useBackend } from '@tsformer/core-tensor';
      await enableGradients();
      const results = { registered: tf.getGradient('GatherV2') !== undefined };
      for (const backend of ['cpu', 'wasm']) {
        await useBackend(backend);
        const gradient = tf.grad((t) =>
          tf.sum(tf.mul(tf.gather(t, tf.tensor1d(${JSON.stringify(ids)}, 'int32')), tf.tensor2d(${JSON.stringify(weights)}))),
        )(tf.tensor2d(${JSON.stringify(table)}));
        results[backend] = await gradient.array();
      }
      console.log(JSON.stringify(results));
    `;
    const packageRoot = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageRoot,
    });
    const results = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(results).toEqual({
      registered: true,
      cpu: expectedTableGradient(),
      wasm: expectedTableGradient(),
    });
  });
});
