// Runs the project's pinned pnpm (package.json "packageManager") through npx, so that a machine
// with only Node and npm needs no global pnpm or corepack.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

export function pnpm(args, options = {}) {
  const result = spawnSync('npx', ['--yes', packageManager, ...args], {
    env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
    stdio: 'inherit',
    cwd: root,
    ...options,
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(pnpm(process.argv.slice(2)));
}
