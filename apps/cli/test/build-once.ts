// Vitest global setup: the CLI tests run the bin, which loads dist/bin.js: build the workspace when that is missing
// (`npm test` builds before running vitest; a bare `vitest run --project cli` may not have).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUILT_CLI, REPO_ROOT } from './run-cli.js';

export default function buildOnce(): void {
  if (existsSync(BUILT_CLI)) return;
  const build = spawnSync(
    process.execPath,
    ['scripts/pnpm.mjs', 'exec', 'turbo', 'run', 'build', '--output-logs=errors-only'],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  if (build.status !== 0) throw new Error(`building the workspace failed (exit ${build.status})`);
}
