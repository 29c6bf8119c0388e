// One-step set-up for a fresh clone: install the locked dependencies with the pinned pnpm and
// build every package. `npm start` and `npm test` both run it first.
import { pnpm } from './pnpm.mjs';

const steps = [
  ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'],
  ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'],
];
for (const step of steps) {
  const status = pnpm(step);
  if (status !== 0) {
    console.error(`set-up failed at: pnpm ${step.join(' ')}`);
    process.exit(status);
  }
}
