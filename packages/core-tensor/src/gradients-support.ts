// tfjs-core registers its gradient functions only in this module (its index leaves them out).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { registerWasmGradientKernels } from './wasm-unsorted-segment-sum.js';

/**
 * Makes every backend able to differentiate what tsformer's models compute: registers tfjs-core's
 * gradient functions and the kernels the wasm backend lacks for them (`UnsortedSegmentSum`, behind
 * `gather`'s gradient). Call before the first gradient; calling again does nothing.
 */
export function enableGradients(): void {
  registerWasmGradientKernels();
}
