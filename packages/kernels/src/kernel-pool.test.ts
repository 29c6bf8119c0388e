import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '@tsformer/core-tensor';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { KernelPoolError } from './errors.js';
import { KernelPool } from './kernel-pool.js';
import { relaxedSimdSupported } from './kernels-module.js';
import { packWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';
import { maddIsFused } from './testing/madd-reference.js';

/** A script that starts a 2-thread pool, runs one product, prints it and ends without terminate(). */
const CHILD = `
import { KernelPool, packWeight, skinnyMatmul } from './src/index.ts';
const pool = await KernelPool.create({ threads: 2 });
const weight = packWeight(pool, { dtype: 'fp32', data: Float32Array.from({ length: 3 * 40 }, (_, k) => k), shape: [3, 40] });
const y = skinnyMatmul(weight, Float32Array.of(1, 1, 1), 1);
console.log(JSON.stringify([y[0], y[39]]));
`;

describe('KernelPool', () => {
  it('lets a finished process exit while its workers sleep (they are unreferenced)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tsformer-kernels-'));
    try {
      const script = join(folder, 'child.mjs');
      await build({
        stdin: { contents: CHILD, resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
        bundle: true,
        platform: 'node',
        format: 'esm',
        conditions: ['@tsformer/source'],
        external: ['@tensorflow/*'],
        outfile: script,
        logLevel: 'silent',
      });
      // A generous limit only so that a regression fails instead of hanging the suite.
      const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      // Columns 0 and 39 of [0..119] viewed [3, 40], summed over the 3 rows.
      expect(JSON.parse(child.stdout)).toEqual([0 + 40 + 80, 39 + 79 + 119]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('gives results that do not depend on how chunks fall to threads, task after task', async () => {
    // Three threads claiming one panel at a time against one thread, 300 products back to back
    // (workers spinning, sleeping, late for a task): every output bit-identical.
    const shared = await KernelPool.create({ threads: 3, chunkWork: 1, spinMicroseconds: 1 });
    const alone = await KernelPool.create({ threads: 1 });
    const random = new SeededRandom(3);
    for (let task = 0; task < 300; task++) {
      const [rows, inF, outF] = [1 + (task % 3), 1 + (task % 37), 1 + ((task * 7) % 90)];
      const data = random.normalArray(inF * outF);
      const x = random.normalArray(rows * inF);
      const dtype = (['fp32', 'int8'] as const)[task % 2]!;
      const a = packWeight(shared, { dtype: 'fp32', data, shape: [inF, outF] }, { dtype });
      const b = packWeight(alone, { dtype: 'fp32', data, shape: [inF, outF] }, { dtype });
      expect(skinnyMatmul(a, x, rows)).toEqual(skinnyMatmul(b, x, rows));
      a.free();
      b.free();
    }
    await Promise.all([shared.terminate(), alone.terminate()]);
  });

  it('stops its workers on terminate() and refuses work afterwards', async () => {
    const pool = await KernelPool.create({ threads: 3 });
    const weight = packWeight(pool, {
      dtype: 'fp32',
      data: new Float32Array(2 * 100).fill(1),
      shape: [2, 100],
    });
    expect([...skinnyMatmul(weight, Float32Array.of(1, 2), 1)]).toEqual(new Array(100).fill(3));
    await pool.terminate(); // resolves once every worker has exited
    expect(() => skinnyMatmul(weight, Float32Array.of(1, 2), 1)).toThrow(KernelPoolError);
  });

  it('runs the relaxed-SIMD build where the engine has it (Node 20: behind a flag it sets), and the baseline build unfused', async () => {
    expect(relaxedSimdSupported()).toBe(true);
    const relaxed = await KernelPool.create();
    const baseline = await KernelPool.create({ relaxedSimd: false });
    expect([relaxed.relaxedSimd, baseline.relaxedSimd]).toEqual([true, false]);
    expect(maddIsFused(baseline)).toBe(false);
    await Promise.all([relaxed.terminate(), baseline.terminate()]);
  });

  it('refuses a thread count it cannot run', async () => {
    await expect(KernelPool.create({ threads: 0 })).rejects.toThrow(
      /threads must be an integer from 1 to 64, got 0/,
    );
  });
});
