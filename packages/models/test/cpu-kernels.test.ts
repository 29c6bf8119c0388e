// The CPU kernels behind `linear` (@tsformer/kernels' enableCpuKernels, which fromPretrained turns on
// for wasm and cpu) give the models the portable path's outputs to float32 rounding, on 1 and 2
// threads, leave no tensor behind, and never keep a finished process alive.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  cpuKernelsEnabled,
  disableCpuKernels,
  enableCpuKernels,
  PACKED_LAYOUT_KEY,
  type PackedParameterLayout,
} from '@tsformer/kernels';
import { packableWeights } from '@tsformer/layers';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PretrainedCausalLM } from '../src/causal-lm.js';
import { fromPretrained } from '../src/from-pretrained.js';
import { DECODER_FIXTURES } from './decoder-fixtures.js';

const PROMPT = [[3, 17, 9, 42, 5, 11, 2]];

/** Prefill logits of PROMPT, then one cached decode step's logits: [1, 7, vocab] and [1, 1, vocab]. */
async function prefillAndStep(model: PretrainedCausalLM): Promise<Float32Array[]> {
  const cache = model.createCache(1, 16);
  const prefill = tf.tidy(() =>
    model.forwardLogits({ inputIds: tf.tensor2d(PROMPT, undefined, 'int32'), cache }),
  );
  const step = tf.tidy(() =>
    model.forwardLogits({ inputIds: tf.tensor2d([[7]], undefined, 'int32'), cache }),
  );
  const values = [(await prefill.data()) as Float32Array, (await step.data()) as Float32Array];
  tf.dispose([prefill, step]);
  cache.dispose();
  return values;
}

/**
 * Largest |a − b| relative to the largest |b|: two float32 summation orders of the same products
 * differ by a few units of roundoff per layer, which the layers carry to the logits.
 */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return difference / scale;
}

describe.each(['wasm', 'cpu'] as const)('models on the CPU kernels (%s backend)', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => disableCpuKernels());

  for (const name of ['gpt2', 'llama', 'tiny-llama-docs'] as const) {
    it(`${name}: logits and greedy tokens equal the portable path's on 1 and 2 threads, no tensor left`, async () => {
      const { model } = await fromPretrained(DECODER_FIXTURES[name]);
      expect(cpuKernelsEnabled()).toBe(true);
      const causal = model as PretrainedCausalLM;
      const generate = async () =>
        (await causal.generateAll({ inputIds: PROMPT }, { maxNewTokens: 8, doSample: false })).sequences;
      disableCpuKernels();
      const portable = await prefillAndStep(causal);
      const portableTokens = await generate();
      for (const threads of [1, 2]) {
        await enableCpuKernels({ threads });
        await expectNoLeak(async () => {
          const kernels = await prefillAndStep(causal);
          for (const [part, values] of kernels.entries()) {
            // 2^-17 ≈ 7.6e-6: float32 roundoff (2^-24) grown through a few layers, far below the
            // fixtures' 1e-4 tolerance against Hugging Face.
            expect(relativeDifference(values, portable[part]!), `${name} part ${part}`).toBeLessThan(
              2 ** -17,
            );
          }
          expect(await generate()).toEqual(portableTokens);
        });
      }
      model.dispose();
    });
  }
});

describe('weights under the CPU kernels', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('tiny-llama-docs (bf16): linear and embedding weights live once, 16-bit, in the packed layout; generating restores no tensor', async () => {
    const before = tf.memory().numBytes;
    const { model } = await fromPretrained(DECODER_FIXTURES['tiny-llama-docs']);
    const packable = packableWeights(model);
    // Every projection and the tied embedding/head table: all but the norms.
    expect(packable.size).toBe(model.parameters().length - (2 * 6 + 1));
    const packedBytes = [...packable.keys()].map((parameter) => {
      const layout = parameter.derived<PackedParameterLayout>(PACKED_LAYOUT_KEY, () =>
        expect.fail('not packed'),
      );
      expect(layout.packed.dtype).toBe('bf16');
      return layout.packed.bytes;
    });
    const tensorBytes = model
      .parameters()
      .filter((p) => !packable.has(p))
      .reduce((n, p) => n + 4 * p.size, 0);
    // tfjs holds the norms and RoPE's cos/sin tables ([512 positions, head dim 48], float32), and
    // not one packed weight.
    const ropeTables = 2 * 512 * 48 * 4;
    expect(tf.memory().numBytes - before).toBe(tensorBytes + ropeTables);
    const causal = model as PretrainedCausalLM;
    await causal.generateAll({ inputIds: PROMPT }, { maxNewTokens: 4 });
    expect([...packable.keys()].some((parameter) => parameter.hasTensor)).toBe(false);
    // bf16: 2 bytes a weight (panels of 16 columns; 288, 96 and 768 outputs fill them, 4096 too).
    const weights = [...packable.keys()].reduce((n, p) => n + p.size, 0);
    expect(packedBytes.reduce((a, b) => a + b, 0)).toBe(2 * weights);
    model.dispose();
  });
});

/**
 * A script that loads gpt2 on 2 kernel threads, generates and ends without stopping the pool (on the
 * cpu backend: a bundle carries it with no .wasm file to find).
 */
const CHILD = `
import { fromPretrained } from './src/index.ts';
(async () => {
  const { model } = await fromPretrained(${JSON.stringify(DECODER_FIXTURES.gpt2)}, { backend: 'cpu' });
  const { sequences } = await model.generateAll({ inputIds: [[3, 17, 9]] }, { maxNewTokens: 3 });
  console.log(JSON.stringify(sequences[0].length));
})();
`;

describe('the kernel pool of a model', () => {
  it('lets a finished process exit: its worker threads never keep it alive', async () => {
    // Inside the package, so that the script finds its external packages in node_modules.
    const cache = fileURLToPath(new URL('../node_modules/.cache', import.meta.url));
    mkdirSync(cache, { recursive: true });
    const folder = mkdtempSync(join(cache, 'cpu-kernels-'));
    try {
      const script = join(folder, 'child.cjs');
      await build({
        stdin: { contents: CHILD, resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        conditions: ['@tsformer/source'],
        external: ['@huggingface/*'],
        outfile: script,
        logLevel: 'silent',
      });
      // A generous limit only so that a regression fails instead of hanging the suite.
      const child = spawnSync(process.execPath, [script], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, TSFORMER_KERNEL_THREADS: '2' },
      });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      expect(JSON.parse(child.stdout)).toBe(6);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
