// `npm test` (after `scripts/setup.mjs`): every test, then the webgpu suite, then the linter. The one test
// that starts tfjs-wasm's 2-thread XNNPACK pool runs first and alone: on a 2-core machine whose cores the
// rest of the suite keeps busy, the pool's start-up can stall past the test's time limit, so it gets the
// machine to itself. The webgpu suite (`*.webgpu.test.ts`: check-parity on the reference folders and the
// WGSL kernels against their portable implementations) runs on SwiftShader when chromium is installed.
import { pnpm } from './pnpm.mjs';
import { swiftShaderEnvironment } from './webgpu-env.mjs';

const THREAD_POOL_TEST = 'packages/core-tensor/src/wasm-threads-node.test.ts';
const steps = [
  ['exec', 'vitest', 'run', THREAD_POOL_TEST],
  ['exec', 'vitest', 'run', '--exclude', `**/${THREAD_POOL_TEST.split('/').pop()}`],
];
for (const step of steps) {
  const status = pnpm(step);
  if (status !== 0) process.exit(status);
}

const webgpu = swiftShaderEnvironment();
if (webgpu) {
  console.log(
    "\nwebgpu suite: running on SwiftShader (Dawn in Node through the webgpu package, chromium's Vulkan driver)",
  );
  const status = pnpm(['exec', 'vitest', 'run', '--passWithNoTests'], { env: webgpu });
  if (status !== 0) process.exit(status);
} else {
  console.log(
    '\nSKIP webgpu suite: WebGPU on the CPU needs SwiftShader from the Debian package chromium (apt-get install chromium)',
  );
}

process.exit(pnpm(['exec', 'biome', 'check', '.']));
