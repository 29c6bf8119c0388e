import { linear } from '../linear.js';
import { webgpuLinear } from './webgpu-linear.js';

let removers: (() => void)[] = [];

/**
 * Serves tsformer's fused ops on the webgpu backend with WGSL programs run through tfjs-backend-webgpu
 * (`linear` for decode rows today). `fromPretrained` calls it when the model runs on webgpu; calling it
 * again does nothing. Results equal the portable ops' to float32 rounding (another summation order).
 */
export function enableWebgpuKernels(): void {
  if (removers.length > 0) return;
  removers = [linear.register('webgpu', webgpuLinear)];
}

/** Gives the fused ops back to their portable tfjs implementations on webgpu. */
export function disableWebgpuKernels(): void {
  for (const remove of removers) remove();
  removers = [];
}
