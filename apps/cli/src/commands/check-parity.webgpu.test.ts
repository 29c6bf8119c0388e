import { KNOWN_TRAINING_MISMATCHES } from '@tsformer/training/testing';
import { describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli } from '../../test/run-cli.js';

interface ParityJson {
  checks: { name: string; status: 'pass' | 'fail' | 'tie' | 'note'; detail: string }[];
  failed: number;
}

/**
 * A training check that webgpu's float32 summation order may tip over its tolerance: a gradient or a
 * weight after 3 AdamW steps with at most this many elements off (seen on marian, qwen3 and llama: one or
 * two elements a few 1e-5 off, where wasm's run passes). A wrong gradient has far more elements off.
 */
const WEBGPU_ROUNDING_ELEMENTS = 3;
const FEW_ELEMENTS_OFF = /^(\d+) of \d+ elements off/;

function isWebgpuRounding(check: { name: string; detail: string }): boolean {
  const off = FEW_ELEMENTS_OFF.exec(check.detail);
  return (
    /^training (grad|step3)\./.test(check.name) && off !== null && Number(off[1]) <= WEBGPU_ROUNDING_ELEMENTS
  );
}

/** SwiftShader runs a tiny model's folder in minutes on 2 cores; a hung adapter still ends the test. */
const FOLDER_LIMIT_MS = 20 * 60_000;

// The webgpu suite (npm test on SwiftShader): every reference folder passes check-parity on WebGPU as
// it does on wasm (every tokenization, forward and generate check; training within the known mismatches
// and webgpu's rounding above), with no synchronous read (tfjs-webgpu in Node cannot do one).
describe('tsformer check-parity --backend webgpu', () => {
  it.each([
    'gpt2',
    'llama',
    'qwen3',
    'gpt_neox',
    'gemma2',
    'phi3',
    'bart',
    'marian',
    't5',
    'processors',
    'tiny-llama-docs',
  ])(
    'passes every check of %s but the known training mismatches',
    (name) => {
      const dir = name === 'tiny-llama-docs' ? BUNDLED_MODEL : `${FIXTURES}/${name}`;
      const run = runCli(['check-parity', dir, '--backend', 'webgpu', '--json'], {
        timeoutMs: FOLDER_LIMIT_MS,
      });
      expect(run.stderr).not.toMatch(/OffscreenCanvas|synchronously reading/);
      const report = JSON.parse(run.stdout) as ParityJson;
      const open = KNOWN_TRAINING_MISMATCHES[name];
      const unexpected = report.checks.filter(
        (check) =>
          check.status === 'fail' &&
          !(check.name.startsWith('training ') && open?.test(check.name.slice(9))) &&
          !isWebgpuRounding(check),
      );
      expect(unexpected, run.stdout).toEqual([]);
      expect(report.checks.length).toBeGreaterThan(10);
    },
    FOLDER_LIMIT_MS + 60_000,
  );
});
