// Runs the built `tsformer` command as a user would: a subprocess with piped stdio.
import { spawnSync } from 'node:child_process';
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
}

/** Runs `tsformer ...args` to completion, on the wasm backend, with no TSFORMER_BACKEND inherited. */
export function runCli(args: readonly string[], options: RunOptions = {}): CliRun {
  const env = { ...process.env };
  delete env.TSFORMER_BACKEND;
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? tmpdir(),
    input: options.input ?? '',
    encoding: 'utf8',
    env,
    timeout: 110_000,
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
