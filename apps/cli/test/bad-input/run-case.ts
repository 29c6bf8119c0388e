// Runs a `tsformer` command on a case folder: in this process (the command's entry with stdout and
// stderr captured, the error it threw kept, tensors counted, under a timeout) or as the real bin in a
// subprocess (for what only a process shows: its exit status, its stderr, that it ends).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { reportError } from '../../src/cli-errors.js';
import { buildProgram } from '../../src/program.js';
import { CLI_PATH } from '../run-cli.js';
import type { CorpusCommand } from './corpus-case.js';

/** What a run of a command did. */
export interface CaseRun {
  /** The exit status, or `hang` when it had not ended within the timeout. */
  readonly status: number | 'hang';
  readonly stdout: string;
  readonly stderr: string;
  /** In-process runs: the error the command threw (undefined when it returned). */
  readonly error?: unknown;
  /** In-process runs: tensors alive after the run minus those before. */
  readonly leakedTensors: number;
}

/** The prompt and length every `generate` case uses: short, so a valid folder costs little. */
export function commandLine(command: CorpusCommand, folder: string): string[] {
  switch (command) {
    case 'generate':
      return ['generate', '--model', folder, '--prompt', 'Hello', '--max-new-tokens', '2'];
    case 'inspect --model':
      return ['inspect', '--model', folder, '--json'];
    case 'inspect --config':
      return ['inspect', '--config', `${folder}/config.json`, '--json'];
  }
}

export interface InProcessOptions {
  timeoutMs: number;
  /** Called when the timeout passes, to unblock the command (release FIFOs) before waiting once more. */
  onTimeout?: () => Promise<void>;
}

/**
 * Runs `tsformer argv` in this process as `runCli` does (the program, then `reportError` on what it
 * throws), keeping the thrown error. Output written through process.stdout/stderr or console is
 * captured; runs must not overlap.
 */
export async function runInProcess(argv: readonly string[], options: InProcessOptions): Promise<CaseRun> {
  const capture = captureOutput();
  const tensorsBefore = tf.memory().numTensors;
  let status = 0;
  let error: unknown;
  const run = (async () => {
    const program = buildProgram((code) => {
      status = code;
    });
    try {
      await program.parseAsync([...argv], { from: 'user' });
    } catch (thrown) {
      error = thrown;
      status = reportError(thrown, false, process.stderr);
    }
  })();
  try {
    if (!(await settlesWithin(run, options.timeoutMs))) {
      await options.onTimeout?.();
      // Let the unblocked command end, so its output does not spill into the next case's.
      await settlesWithin(run, options.timeoutMs);
      return { status: 'hang', stdout: capture.stdout(), stderr: capture.stderr(), error, leakedTensors: 0 };
    }
  } finally {
    capture.restore();
  }
  return {
    status,
    stdout: capture.stdout(),
    stderr: capture.stderr(),
    error,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Redirects process.stdout/stderr writes and console output into strings until `restore`. */
function captureOutput() {
  const out: string[] = [];
  const err: string[] = [];
  const originals = {
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    console: { ...console },
  };
  const sink =
    (into: string[]) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    };
  process.stdout.write = sink(out) as typeof process.stdout.write;
  process.stderr.write = sink(err) as typeof process.stderr.write;
  const line =
    (into: string[]) =>
    (...args: unknown[]) =>
      into.push(`${args.map(String).join(' ')}\n`);
  console.log = line(out);
  console.info = line(out);
  console.warn = line(err);
  console.error = line(err);
  console.debug = line(err);
  return {
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    restore() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
      Object.assign(console, originals.console);
    },
  };
}

/** Runs the `tsformer` bin (the built CLI) with `argv`; killed after `timeoutMs` and reported as a hang. */
export function runSubprocess(argv: readonly string[], timeoutMs: number): Promise<CaseRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.TSFORMER_BACKEND;
    const child = spawn(process.execPath, [CLI_PATH, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: hung ? 'hang' : (code ?? 128 + (signal ? constants.signals[signal] : 0)),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        leakedTensors: 0,
      });
    });
  });
}
