// Decides whether a run did what its case expects: one typed error line naming the file (and field or
// tensor), or a correct success; never a hang, a stack trace, an untyped error or a tensor leak.
import { TsformerError } from '@tsformer/core-tensor';
import type { Expectation, Naming } from './corpus-case.js';
import type { CaseRun } from './run-case.js';

/** How a run ended, when it ended as its case allows. */
export type Outcome = 'rejected' | 'accepted';

/** A run judged: its outcome, or what is wrong with it. */
export type Verdict = { readonly outcome: Outcome } | { readonly problem: string };

/** What the unchanged folder printed for the same command (with its path replaced by `<folder>`). */
export interface Baseline {
  readonly stdout: string;
}

/** Paths in the output are replaced by `<folder>`, so outputs of different case folders compare. */
export function normalizeOutput(text: string, folder: string): string {
  return text.split(folder).join('<folder>');
}

/** Judges a run against its case's expectation; every problem found is reported, joined by "; ". */
export function judge(expect: Expectation, run: CaseRun, baseline: Baseline, folder: string): Verdict {
  const stderr = normalizeOutput(run.stderr, folder);
  if (run.status === 'hang') return { problem: `hang: no result before the timeout${stderrTail(stderr)}` };
  const problems: string[] = [];
  if (/^\s+at .+[:(]/m.test(stderr)) problems.push(`a stack trace on stderr: ${firstLine(stderr)}`);
  if (run.error !== undefined && !(run.error instanceof TsformerError)) {
    problems.push(`untyped ${describeError(run.error)}`);
  }
  const outcome: Outcome = run.status === 0 ? 'accepted' : 'rejected';
  const found =
    outcome === 'accepted'
      ? judgeSuccess(expect, run, baseline, folder)
      : judgeRejection(expect, run, stderr);
  if (found) problems.push(found);
  if (run.leakedTensors !== 0) problems.push(`${run.leakedTensors} tensor(s) leaked`);
  return problems.length === 0 ? { outcome } : { problem: problems.join('; ') };
}

function judgeSuccess(
  expect: Expectation,
  run: CaseRun,
  baseline: Baseline,
  folder: string,
): string | undefined {
  if (expect.outcome === 'reject') return `exit 0; expected an error naming ${describeNames(expect.names)}`;
  const stdout = normalizeOutput(run.stdout, folder);
  if (expect.output === 'baseline' && stdout !== baseline.stdout) {
    return `exit 0 but the output differs from the unchanged folder's: ${firstDifference(stdout, baseline.stdout)}`;
  }
  return undefined;
}

function judgeRejection(expect: Expectation, run: CaseRun, stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1)
    return `exit ${run.status} with ${lines.length} lines on stderr: ${lines.join(' | ')}`;
  const line = lines[0]!;
  if (!line.startsWith('tsformer: ')) return `exit ${run.status}, stderr not an error line: ${line}`;
  // The CLI marks what is not a TsformerError (the only sign a subprocess gives).
  if (/an unexpected error/.test(line) && run.error === undefined) return `untyped error: ${line}`;
  if (expect.outcome === 'accept') return `rejected a valid input: ${line}`;
  const missing = expect.names.filter((naming) => !mentions(line, naming));
  if (missing.length > 0) return `the error does not name ${describeNames(missing)}: ${line}`;
  return undefined;
}

function mentions(line: string, naming: Naming): boolean {
  return typeof naming === 'string' ? line.includes(naming) : naming.test(line);
}

function describeNames(names: readonly Naming[]): string {
  return names
    .map((naming) => (typeof naming === 'string' ? JSON.stringify(naming) : String(naming)))
    .join(', ');
}

/** An error's class, first message line, and where it was thrown (the first frame of its stack). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `throw of ${typeof error}: ${String(error)}`;
  const frame =
    error.stack
      ?.split('\n')
      .find((line) => /^\s+at /.test(line))
      ?.trim() ?? '';
  return `${error.name}: ${firstLine(error.message)}${frame ? ` (${frame})` : ''}`;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function stderrTail(stderr: string): string {
  return stderr.trim() === '' ? '' : ` (stderr: ${firstLine(stderr)})`;
}

function firstDifference(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, i - 20), i + 40));
  return `at character ${i}, ${around(actual)} instead of ${around(expected)}`;
}
