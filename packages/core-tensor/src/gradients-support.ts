import { TsformerError } from './errors.js';
import { registerWasmGradientKernels } from './wasm-unsorted-segment-sum.js';

let enabled = false;

/**
 * Makes every backend able to differentiate what tsformer's models compute: loads tfjs-core's
 * gradient functions (its index leaves them out) and registers the kernels the wasm backend lacks
 * for them (`UnsortedSegmentSum`, behind `gather`'s gradient). Await it once before the first
 * gradient; calling again does nothing.
 *
 * tfjs-core ships its gradient functions only as ES modules with extensionless imports, which plain
 * Node refuses; the build bundles them into `@tsformer/core-tensor/tfjs-gradients`
 * (scripts/bundle-tfjs-gradients.mjs), which imports `@tensorflow/tfjs-core` itself and so registers
 * them into the engine every other import of tfjs-core uses.
 */
export async function enableGradients(): Promise<void> {
  if (enabled) return;
  await import('@tsformer/core-tensor/tfjs-gradients').catch((error: unknown) => {
    throw new TsformerError(
      `cannot load tfjs-core's gradient functions from @tsformer/core-tensor/tfjs-gradients (${error instanceof Error ? error.message.split('\n')[0] : error}): build @tsformer/core-tensor first (node scripts/setup.mjs)`,
    );
  });
  registerWasmGradientKernels();
  enabled = true;
}

/** Whether `enableGradients()` has run. */
export function gradientsEnabled(): boolean {
  return enabled;
}
