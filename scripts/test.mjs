// `npm test` (after `scripts/setup.mjs`): every test, then the linter. The one test that starts tfjs-wasm's 2-thread
// XNNPACK pool runs first and alone: on a 2-core machine whose cores the rest of the suite keeps busy,
// the pool's start-up can stall past the test's time limit, so it gets the machine to itself.
import { pnpm } from './pnpm.mjs';

const THREAD_POOL_TEST = 'packages/core-tensor/src/wasm-threads-node.test.ts';
const steps = [
  ['exec', 'vitest', 'run', THREAD_POOL_TEST],
  ['exec', 'vitest', 'run', '--exclude', `**/${THREAD_POOL_TEST.split('/').pop()}`],
  ['exec', 'biome', 'check', '.'],
];
for (const step of steps) {
  const status = pnpm(step);
  if (status !== 0) process.exit(status);
}
