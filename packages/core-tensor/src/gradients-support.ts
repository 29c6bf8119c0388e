import { TsformerError } from './errors.js';
import { registerWasmGradientKernels } from './wasm-unsorted-segment-sum.js';

let enabled = false;

/**
 * Makes every backend able to differentiate what tsformer's models compute: loads tfjs-core's
 * gradient functions (its index leaves them out) and registers the kernels the wasm backend lacks
 * for them (`UnsortedSegmentSum`, behind `gather`'s gradient). Await it once before the first
 * gradient; calling again does nothing.
 *
 * tfjs-core ships its gradient functions only as ES modules with extensionless imports: a bundler or
 * vite loads them, plain Node ESM does not (a bundled copy is still to come).
 */
export async function enableGradients(): Promise<void> {
  if (enabled) return;
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js').catch((error: unknown) => {
    throw new TsformerError(
      `cannot load tfjs-core's gradient functions (${error instanceof Error ? error.message.split('\n')[0] : error}): run training from a bundle or through vite`,
    );
  });
  registerWasmGradientKernels();
  enabled = true;
}

/** Whether `enableGradients()` has run. */
export function gradientsEnabled(): boolean {
  return enabled;
}
