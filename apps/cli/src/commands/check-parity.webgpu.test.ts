import { describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli } from '../../test/run-cli.js';

interface ParityJson {
  checks: { name: string; status: 'pass' | 'fail' | 'tie' | 'note'; detail: string }[];
  failed: number;
}

/** SwiftShader runs a tiny model's folder in minutes on 2 cores; a hung adapter still ends the test. */
const FOLDER_LIMIT_MS = 20 * 60_000;

// The webgpu suite (npm test on SwiftShader): every reference folder passes check-parity on WebGPU as
// it does on wasm — every tokenization, forward, generate and training check (training judged against
// the float64 redo of PyTorch, which allows float32's summation-order differences, webgpu's included) —
// with no synchronous read (tfjs-webgpu in Node cannot do one).
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
    'passes every check of %s',
    (name) => {
      const dir = name === 'tiny-llama-docs' ? BUNDLED_MODEL : `${FIXTURES}/${name}`;
      const run = runCli(['check-parity', dir, '--backend', 'webgpu', '--json'], {
        timeoutMs: FOLDER_LIMIT_MS,
      });
      expect(run.stderr).not.toMatch(/OffscreenCanvas|synchronously reading/);
      const report = JSON.parse(run.stdout) as ParityJson;
      expect(
        report.checks.filter((check) => check.status === 'fail'),
        run.stdout,
      ).toEqual([]);
      expect(report.checks.length).toBeGreaterThan(10);
    },
    FOLDER_LIMIT_MS + 60_000,
  );
});
