// Runs the built `tsformer` command as a user would: a subprocess with piped stdio.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The `tsformer` bin as package managers link it (it loads dist/bin.js). */
export const CLI_PATH = `${REPO_ROOT}apps/cli/bin/tsformer.js`;
/** The built CLI the bin loads. */
export const BUILT_CLI = `${REPO_ROOT}apps/cli/dist/bin.js`;
export const BUNDLED_MODEL = `${REPO_ROOT}models/tiny-llama-docs`;
export const FIXTURES = `${REPO_ROOT}fixtures/hf-reference`;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text piped to stdin (default: none, stdin closed). */
  input?: string;
  /** Working directory (default: a temporary folder, so nothing depends on the repository's cwd). */
  cwd?: string;
  /** Kill the command after this many milliseconds (default 110 000: a test's limit is 120 000). */
  timeoutMs?: number;
}

function cliEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TSFORMER_BACKEND;
  return env;
}

/** Runs `tsformer ...args` to completion, on the wasm backend, with no TSFORMER_BACKEND inherited. */
export function runCli(args: readonly string[], options: RunOptions = {}): CliRun {
  const env = cliEnvironment();
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? tmpdir(),
    input: options.input ?? '',
    encoding: 'utf8',
    env,
    timeout: options.timeoutMs ?? 110_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command with `--json` and parses its stdout; throws with its stderr when it failed. */
export function runCliJson<T>(args: readonly string[], options: RunOptions = {}): T {
  const run = runCli([...args, '--json'], options);
  if (run.status !== 0) throw new Error(`tsformer ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/**
 * A `tsformer` process to talk to while it runs (chat): write lines, wait for its output, signal it.
 * Everything it wrote so far is in `stdout` and `stderr`.
 */
export class RunningCli {
  stdout = '';
  stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<CliRun>;
  private waiters: (() => void)[] = [];

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: tmpdir(), env: cliEnvironment() });
    const wake = () => {
      for (const waiter of this.waiters) waiter();
    };
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      wake();
    });
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (status) => {
        wake();
        resolve({ status, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Closes its stdin (end of input). */
  end(): void {
    this.child.stdin.end();
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Resolves once `condition` holds on what it wrote (checked on each output); rejects if it exits first. */
  async until(condition: (run: { stdout: string; stderr: string }) => boolean): Promise<void> {
    while (!condition(this)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`tsformer exited (${this.child.exitCode ?? this.child.signalCode}): ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
      });
      this.waiters = [];
    }
  }

  /** Its exit status and all it wrote, once it has exited. */
  finished(): Promise<CliRun> {
    return this.exited;
  }
}
