import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_TRAINING_MISMATCHES } from '@tsformer/training/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, runCli } from '../../test/run-cli.js';

interface ParityJson {
  atol: number;
  checks: { name: string; status: 'pass' | 'fail' | 'tie' | 'note'; detail: string }[];
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
  for (const line of checks) expect(line).toMatch(/^(PASS|FAIL|TIE |NOTE) \S/);
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
  ])('passes every check of %s but the known training mismatches', (name, dir) => {
    const { run, checks } = checkParity([dir]);
    const open = KNOWN_TRAINING_MISMATCHES[name.split('/').at(-1)!]; // none today
    const failures = checks.filter((line) => line.startsWith('FAIL'));
    const checkName = (line: string) => line.slice('FAIL training '.length).split('  ')[0]!;
    const unexpected = failures.filter(
      (line) => !(line.startsWith('FAIL training ') && open?.test(checkName(line))),
    );
    expect(unexpected, run.stdout).toEqual([]);
    expect(run.status).toBe(failures.length > 0 ? 1 : 0);
    expect(checks.length).toBeGreaterThan(10);
  });

  it('also replays the training reference when the folder has training.json, one line per check', () => {
    const reference = JSON.parse(readFileSync(`${FIXTURES}/gpt2/training.json`, 'utf8'));
    const { checks, failed } = checkParity([`${FIXTURES}/gpt2`]);
    const training = checks.filter((line) => line.slice(5).startsWith('training '));
    // which rule judges, losses, gradient norms, a gradient and a final weight per parameter
    expect(training).toHaveLength(2 * reference.hyperparameters.steps + 2 + 2 * reference.parameters.length);
    expect(training[0]).toMatch(/^NOTE training float64_reference {2}judged against float64/);
    expect(training[1]).toMatch(
      /^PASS training loss\[0\] {2}\S+ vs \S+ \(relative diff .*; float64 \S+: ours/,
    );
    expect(training).toContainEqual(
      expect.stringMatching(
        /^PASS training grad\.transformer\.wte\.weight {2}max .* elements passed by the float64 rule alone$/,
      ),
    );
    expect(training).toContainEqual(
      expect.stringMatching(
        /^PASS training step3\.transformer\.h\.0\.attn\.c_attn\.bias {2}max .*; [1-9]\d* elements passed by the float64 rule alone$/,
      ),
    );
    expect(failed).toBe(0);
  });

  it('says so when a folder has no float64 training reference, and compares with PyTorch float32 alone', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tsformer-parity-plain-'));
    try {
      for (const file of readdirSync(`${FIXTURES}/t5`).filter(
        (name) => !name.startsWith('training-float64.'),
      ))
        copyFileSync(join(FIXTURES, 't5', file), join(folder, file));
      const { checks } = checkParity([folder]);
      const training = checks.filter((line) => line.slice(5).startsWith('training '));
      expect(training[0]).toMatch(
        /^NOTE training float64_reference {2}no float64 reference .* \(the plain rule\)$/,
      );
      expect(training.slice(1).filter((line) => line.includes('float64'))).toEqual([]);
      expect(training.length).toBeGreaterThan(50);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('checks tokenization, num_parameters, every forward tensor and every generate case of a folder', () => {
    const reference = JSON.parse(readFileSync(`${FIXTURES}/llama/reference.json`, 'utf8'));
    const report = JSON.parse(runCli(['check-parity', `${FIXTURES}/llama`, '--json']).stdout) as ParityJson;
    const names = report.checks.map((check) => check.name);
    expect(names).toContain('num_parameters');
    expect(names).toContain('forward.0.logits');
    expect(names).toContain('forward.0.hidden.0');
    expect(names).toContain('forward.0.attn.1');
    expect(names.filter((name) => name.startsWith('generate '))).toHaveLength(reference.generate.length);
    expect(names.filter((name) => name.endsWith(' ids'))).toHaveLength(reference.tokenization.length);
    expect(report.atol).toBe(1e-4);
    expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(report.failed).toBe(0);
  });
});

describe('tsformer check-parity failures', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'tsformer-parity-'));
    // forward and generate checks only: the training reference stays behind
    for (const file of readdirSync(`${FIXTURES}/llama`).filter((name) => !name.startsWith('training.')))
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
