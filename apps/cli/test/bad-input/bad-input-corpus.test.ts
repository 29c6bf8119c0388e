// The bad-input corpus (issue 10, "Must show"): mutations of every fixture folder run through the
// `tsformer` commands. Each case must end in one typed error line naming the file (and the field or
// tensor), or in a correct success; never in a crash, a hang, a stack trace, an untyped error or a
// tensor leak. The cases run in this process (the command's entry, output captured, each under a
// timeout); a few also run as the real bin in a subprocess, for what only a process shows.
//
// Cases that fail on main today are listed in knownFailures() (bottom of this file), grouped by cause:
// each must still fail (a case that passes must leave the list), so the list is what remains to fix.
//
// For a developer (see README.md here): TSFORMER_CORPUS_FILTER=<text> runs only the cases whose name
// contains the text; TSFORMER_CORPUS_REPORT=<file> writes every verdict there as JSON lines.
import { appendFileSync, writeFileSync } from 'node:fs';
import { useBackend } from '@tsformer/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInputCorpus } from './bad-input-corpus.js';
import { writeCaseFolder } from './case-folder.js';
import type { CorpusCase, CorpusCommand } from './corpus-case.js';
import { type Baseline, judge, normalizeOutput, type Verdict } from './judge-case.js';
import { commandLine, runInProcess, runSubprocess } from './run-case.js';
import { SOURCE_FOLDERS } from './source-folders.js';

/** Far above what any case needs (a valid folder loads and generates in well under a second). */
const CASE_TIMEOUT_MS = 10_000;
/** A subprocess also starts Node and the wasm backend. */
const SUBPROCESS_TIMEOUT_MS = 30_000;

/** Cases that also run as the `tsformer` bin: exit status, one stderr line, no hang, as a user sees. */
const AS_A_PROCESS = [
  'llama/config.json: is a FIFO nobody writes to · generate',
  'llama/config.json: num_hidden_layers = 10000000 · inspect --config',
  'llama/model.safetensors: truncated to 9 bytes · inspect --model',
  'llama/model.safetensors: header entries in reverse order · generate',
  'llama/tokenizer.json: decoder = {"type":"Bogus"} · generate',
  'llama/generation_config.json: is a directory · generate',
];
const PROCESS_SUFFIX = ' (as a process)';

const filter = process.env.TSFORMER_CORPUS_FILTER;
const reportPath = process.env.TSFORMER_CORPUS_REPORT;
const corpus = badInputCorpus();
const selected = corpus.filter((c) => filter === undefined || c.name.includes(filter));

describe('bad-input corpus', () => {
  const known = new Map(knownFailures().flatMap((failure) => failure.cases.map((name) => [name, failure])));
  const baselines = new Map<string, Baseline>();
  const tally = { cases: 0, rejected: 0, accepted: 0, knownFailures: 0, notRun: 0 };
  const started = performance.now();

  beforeAll(async () => {
    await useBackend('wasm');
    if (reportPath) writeFileSync(reportPath, '');
    for (const folder of SOURCE_FOLDERS) {
      for (const command of [...folder.folderCommands, 'inspect --config'] as CorpusCommand[]) {
        baselines.set(baselineKey(folder.name, command), await runBaseline(folder.name, command));
      }
    }
  });

  afterAll(() => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `bad-input corpus: ${tally.cases} cases, ${tally.rejected} rejected with a typed error, ` +
        `${tally.accepted} accepted correctly, ${tally.knownFailures} known failures ` +
        `(${tally.notRun} more not run: they hang or exhaust memory today) in ${seconds} s`,
    );
  });

  /** Counts a verdict; returns what is wrong with it given the known failures, if anything. */
  const record = (name: string, verdict: Verdict): string | undefined => {
    const failure = known.get(name);
    if (reportPath) {
      const line = { name, ...verdict, ...(failure && { knownFailure: failure.cause }) };
      appendFileSync(reportPath, `${JSON.stringify(line)}\n`);
    }
    tally.cases += 1;
    if ('problem' in verdict) {
      if (failure) {
        tally.knownFailures += 1;
        return undefined;
      }
      return `${name}: ${verdict.problem}`;
    }
    tally[verdict.outcome] += 1;
    return failure ? `${name}: passes now; remove it from knownFailures() ("${failure.cause}")` : undefined;
  };

  for (const [group, cases] of groupBy(selected, (c) => c.group)) {
    it(group, async () => {
      const problems: string[] = [];
      for (const corpusCase of cases) {
        if (known.get(corpusCase.name)?.notRun) {
          tally.notRun += 1;
          continue;
        }
        const verdict = await runCase(corpusCase, baselines, 'in-process');
        const problem = record(corpusCase.name, verdict);
        if (problem) problems.push(problem);
      }
      expect(problems).toEqual([]);
    });
  }

  it('runs some cases as the tsformer bin, two at a time', async () => {
    const cases = AS_A_PROCESS.map((name) => corpus.find((c) => c.name === name)).filter(
      (c): c is CorpusCase => c !== undefined && selected.includes(c),
    );
    const problems: string[] = [];
    const queue = cases.filter((c) => !known.get(c.name + PROCESS_SUFFIX)?.notRun);
    tally.notRun += cases.length - queue.length;
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const problem = record(next.name + PROCESS_SUFFIX, await runCase(next, baselines, 'subprocess'));
        if (problem) problems.push(problem);
      }
    };
    await Promise.all([worker(), worker()]);
    expect(problems).toEqual([]);
  });

  it('lists as known failures only cases of the corpus', () => {
    const names = new Set([
      ...corpus.map((c) => c.name),
      ...AS_A_PROCESS.map((name) => name + PROCESS_SUFFIX),
    ]);
    expect(AS_A_PROCESS.filter((name) => !names.has(name))).toEqual([]);
    const unknown = knownFailures()
      .flatMap(({ cases }) => cases)
      .filter((name) => !names.has(name));
    expect(unknown).toEqual([]);
  });
});

function baselineKey(folder: string, command: CorpusCommand): string {
  return `${folder} · ${command}`;
}

/** The unchanged folder's output for `command` (written the way a case is, so paths compare). */
async function runBaseline(folder: string, command: CorpusCommand): Promise<Baseline> {
  const unchanged: CorpusCase = {
    name: `${folder} unchanged · ${command}`,
    folder,
    changes: {},
    command,
    expect: { outcome: 'accept', output: 'any' },
    group: 'baseline',
  };
  const written = await writeCaseFolder(unchanged);
  try {
    const run = await runInProcess(commandLine(command, written.path), { timeoutMs: CASE_TIMEOUT_MS });
    expect(run.status, `${unchanged.name}: ${run.stderr}`).toBe(0);
    return { stdout: normalizeOutput(run.stdout, written.path) };
  } finally {
    await written.remove();
  }
}

async function runCase(
  corpusCase: CorpusCase,
  baselines: ReadonlyMap<string, Baseline>,
  how: 'in-process' | 'subprocess',
): Promise<Verdict> {
  const written = await writeCaseFolder(corpusCase);
  try {
    const argv = commandLine(corpusCase.command, written.path);
    const run =
      how === 'in-process'
        ? await runInProcess(argv, { timeoutMs: CASE_TIMEOUT_MS, onTimeout: written.releaseFifos })
        : await runSubprocess(argv, SUBPROCESS_TIMEOUT_MS);
    const baseline = baselines.get(baselineKey(corpusCase.folder, corpusCase.command))!;
    return judge(corpusCase.expect, run, baseline, written.path);
  } finally {
    await written.remove();
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    groups.set(name, [...(groups.get(name) ?? []), item]);
  }
  return groups;
}

/** Cases that fail on main today for one cause. */
interface KnownFailure {
  /** What is wrong (and the item of issue 10 that fixes it). */
  readonly cause: string;
  /** What one of its cases printed or did today. */
  readonly seen: string;
  /** Not run while listed: they hang or exhaust memory today. */
  readonly notRun?: boolean;
  /** Case names, exactly as the corpus names them. */
  readonly cases: readonly string[];
}

/**
 * Cases that fail on main today, by cause (a function, so it can sit at the end of the file). Empty:
 * every case of the corpus passes. A new mutation that fails goes here, under its cause, until fixed.
 */
function knownFailures(): readonly KnownFailure[] {
  return [];
}
