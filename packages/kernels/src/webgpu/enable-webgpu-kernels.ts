import { linear } from '../linear.js';
import { addNormalize, normalize } from '../norm-ops.js';
import { gatedProjection, linearActivation, linearResidual } from '../projection-ops.js';
import {
  setBf16Weights,
  webgpuGatedProjection,
  webgpuLinear,
  webgpuLinearActivation,
  webgpuLinearResidual,
} from './webgpu-linear.js';
import { webgpuAddNormalize, webgpuNormalize } from './webgpu-norms.js';

export interface WebgpuKernelsOptions {
  /**
   * Give each linear weight whose values are all bfloat16 (a bf16 checkpoint, widened to float32 at load)
   * a 16-bit copy on the GPU that the decode kernel widens by a shift: half the bytes per step, the same
   * results. Checked on the GPU per weight; others stay float32. Default true.
   */
  bf16Weights?: boolean;
}

let removers: (() => void)[] = [];

/**
 * Serves tsformer's fused ops on the webgpu backend with WGSL programs run through tfjs-backend-webgpu
 * (`linear` with its residual, activation and gated forms, for decode and prefill rows; the norms, with their residual add). `fromPretrained` calls it when the model runs on webgpu; calling it
 * again only updates the options. Results equal the portable ops' to float32 rounding (another summation order).
 */
export function enableWebgpuKernels(options: WebgpuKernelsOptions = {}): void {
  setBf16Weights(options.bf16Weights ?? true);
  if (removers.length > 0) return;
  removers = [
    linear.register('webgpu', webgpuLinear),
    linearResidual.register('webgpu', webgpuLinearResidual),
    linearActivation.register('webgpu', webgpuLinearActivation),
    gatedProjection.register('webgpu', webgpuGatedProjection),
    normalize.register('webgpu', webgpuNormalize),
    addNormalize.register('webgpu', webgpuAddNormalize),
  ];
}

/** Gives the fused ops back to their portable tfjs implementations on webgpu. */
export function disableWebgpuKernels(): void {
  for (const remove of removers) remove();
  removers = [];
}
