import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli, runCliJson } from '../../test/run-cli.js';

interface ParityJson {
  atol: number;
  checks: { name: string; status: 'pass' | 'fail' | 'tie'; detail: string }[];
  passed: number;
  failed: number;
}

/** Runs check-parity and checks the output's shape: one line per check, then exactly `N passed, M failed`. */
function checkParity(args: readonly string[]) {
  const run = runCli(['check-parity', ...args]);
  const lines = run.stdout.trimEnd().split('\n');
  const summary = /^(\d+) passed, (\d+) failed$/.exec(lines.at(-1)!);
  expect(summary, run.stdout + run.stderr).not.toBeNull();
  const checks = lines.slice(0, -1);
  for (const line of checks) expect(line).toMatch(/^(PASS|FAIL|TIE ) \S/);
  const [passed, failed] = [Number(summary![1]), Number(summary![2])];
  expect(passed + failed).toBe(checks.length);
  return { run, checks, passed, failed };
}

describe('tsformer check-parity on the reference folders', () => {
  it.each([
    ['fixtures/hf-reference/gpt2', `${FIXTURES}/gpt2`],
    ['fixtures/hf-reference/llama', `${FIXTURES}/llama`],
    ['fixtures/hf-reference/qwen3', `${FIXTURES}/qwen3`],
    ['fixtures/hf-reference/gpt_neox', `${FIXTURES}/gpt_neox`],
    ['fixtures/hf-reference/gemma2', `${FIXTURES}/gemma2`],
    ['fixtures/hf-reference/bart', `${FIXTURES}/bart`],
    ['fixtures/hf-reference/marian', `${FIXTURES}/marian`],
    ['fixtures/hf-reference/phi3', `${FIXTURES}/phi3`],
    ['fixtures/hf-reference/t5', `${FIXTURES}/t5`],
    ['fixtures/hf-reference/processors', `${FIXTURES}/processors`],
    ['models/tiny-llama-docs', BUNDLED_MODEL],
  ])('passes every check of %s', (_name, dir) => {
    const { run, checks, failed } = checkParity([dir]);
    expect(failed, run.stdout).toBe(0);
    expect(run.status).toBe(0);
    expect(checks.length).toBeGreaterThan(10);
  });

  it('checks tokenization, num_parameters, every forward tensor and every generate case of a folder', () => {
    const reference = JSON.parse(readFileSync(`${FIXTURES}/llama/reference.json`, 'utf8'));
    const report = runCliJson<ParityJson>(['check-parity', `${FIXTURES}/llama`]);
    const names = report.checks.map((check) => check.name);
    expect(names).toContain('num_parameters');
    expect(names).toContain('forward.0.logits');
    expect(names).toContain('forward.0.hidden.0');
    expect(names).toContain('forward.0.attn.1');
    expect(names.filter((name) => name.startsWith('generate '))).toHaveLength(reference.generate.length);
    expect(names.filter((name) => name.endsWith(' ids'))).toHaveLength(reference.tokenization.length);
    expect(report.atol).toBe(1e-4);
    expect(report.failed).toBe(0);
  });
});

describe('tsformer check-parity failures', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'tsformer-parity-'));
    for (const file of readdirSync(`${FIXTURES}/llama`))
      copyFileSync(join(FIXTURES, 'llama', file), join(folder, file));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('fails forward tensors beyond a tighter --atol and exits 1', () => {
    const { run, failed } = checkParity([`${FIXTURES}/llama`, '--atol', '0']);
    expect(failed).toBeGreaterThan(0);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL forward\.0\.logits .*max \|diff\| .* > atol 0/m);
  });

  it('fails a generate case whose sequence differs, and reports a near-tie as a tie', () => {
    const reference = JSON.parse(readFileSync(`${FIXTURES}/llama/reference.json`, 'utf8'));
    const greedy = reference.generate.find((entry: { name: string }) => entry.name === 'greedy');
    const wrong = { ...greedy, name: 'greedy_wrong', sequences: [[...greedy.sequences[0].slice(0, -1), 7]] };
    const tie = { ...wrong, name: 'greedy_tie', min_top2_margin: 1e-5 };
    writeFileSync(
      join(folder, 'reference.json'),
      JSON.stringify({ ...reference, generate: [greedy, wrong, tie] }),
    );
    const { run, checks, failed } = checkParity([folder]);
    const last = greedy.sequences[0].length - 1;
    expect(checks).toContain('PASS generate greedy  1 sequence(s) identical');
    expect(checks.find((line) => line.startsWith('FAIL generate greedy_wrong'))).toContain(
      `differs at position ${last}`,
    );
    expect(checks.find((line) => line.startsWith('TIE  generate greedy_tie'))).toContain('a tie');
    expect(failed).toBe(1);
    expect(run.status).toBe(1);
  });
});
