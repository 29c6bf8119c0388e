import { TsformerError } from '@tsformer/core-tensor';
import { describe, expect, it } from 'vitest';
import { accept, either, reject } from './corpus-case.js';
import { judge } from './judge-case.js';
import type { CaseRun } from './run-case.js';

const FOLDER = '/tmp/tsformer-corpus-x';
const baseline = { stdout: 'Hello world\n' };
const rejected = (line: string, more: Partial<CaseRun> = {}): CaseRun => ({
  status: 1,
  stdout: '',
  stderr: `${line}\n`,
  error: new TsformerError(line),
  leakedTensors: 0,
  ...more,
});
const accepted = (stdout: string, more: Partial<CaseRun> = {}): CaseRun => ({
  status: 0,
  stdout,
  stderr: '',
  leakedTensors: 0,
  ...more,
});

describe('judge', () => {
  it('passes one typed error line that names the file and the field', () => {
    const run = rejected(`tsformer: ${FOLDER}/config.json: hidden_size must be a positive integer, got 0`);
    expect(judge(reject('config.json', 'hidden_size'), run, baseline, FOLDER)).toEqual({
      outcome: 'rejected',
    });
  });

  it('fails an error that does not name the file', () => {
    const run = rejected('tsformer: llama config: hidden_size must be a positive integer, got 0');
    expect(judge(reject('config.json', 'hidden_size'), run, baseline, FOLDER)).toEqual({
      problem: expect.stringContaining('does not name "config.json"'),
    });
  });

  it('fails an untyped error, a stack trace, extra lines and a tensor leak, all at once', () => {
    const run = rejected('tsformer: TypeError: x is not a function', {
      stderr: 'tsformer: TypeError: x is not a function\n    at parse (file.js:1:2)\n',
      error: new TypeError('x is not a function'),
      leakedTensors: 4,
    });
    const verdict = judge(reject('tokenizer.json'), run, baseline, FOLDER);
    expect('problem' in verdict && verdict.problem.split('; ')).toEqual([
      expect.stringContaining('a stack trace'),
      expect.stringContaining('untyped TypeError: x is not a function'),
      expect.stringContaining('2 lines on stderr'),
      '4 tensor(s) leaked',
    ]);
  });

  it("fails the CLI's own marker of an untyped error from a subprocess", () => {
    const line = 'tsformer: Error: boom (an unexpected error: run again with --debug for the stack trace)';
    const verdict = judge(reject('tokenizer.json'), rejected(line, { error: undefined }), baseline, FOLDER);
    expect(verdict).toEqual({ problem: expect.stringContaining('untyped error') });
  });

  it('fails a hang', () => {
    const verdict = judge(either('any', 'config.json'), accepted('', { status: 'hang' }), baseline, FOLDER);
    expect(verdict).toEqual({ problem: expect.stringContaining('hang') });
  });

  it('fails a success where a rejection is due, and a rejection of a valid input', () => {
    expect(judge(reject('config.json'), accepted(baseline.stdout), baseline, FOLDER)).toEqual({
      problem: expect.stringContaining('exit 0; expected an error naming "config.json"'),
    });
    expect(judge(accept(), rejected('tsformer: no'), baseline, FOLDER)).toEqual({
      problem: expect.stringContaining('rejected a valid input'),
    });
  });

  it("compares a success with the unchanged folder's output, the folder's path aside", () => {
    expect(judge(accept(), accepted(`Hello world\n`), baseline, FOLDER)).toEqual({ outcome: 'accepted' });
    expect(judge(accept(), accepted('Hello there\n'), baseline, FOLDER)).toEqual({
      problem: expect.stringContaining('output differs'),
    });
    expect(judge(accept('any'), accepted('Hello there\n'), baseline, FOLDER)).toEqual({
      outcome: 'accepted',
    });
    const inspect = { stdout: '{"source": "<folder>"}\n' };
    expect(judge(accept(), accepted(`{"source": "${FOLDER}"}\n`), inspect, FOLDER)).toEqual({
      outcome: 'accepted',
    });
  });
});
