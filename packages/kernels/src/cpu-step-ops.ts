import { cpuAddNormalize, cpuNormalize } from './cpu-normalize.js';
import type { KernelPool } from './kernel-pool.js';
import { addNormalize, normalize } from './norm-ops.js';

/**
 * Registers, on `backendName` (wasm or cpu), the kernels of a decode step outside its matrix
 * products: `normalize` and `addNormalize` (LayerNorm, RMSNorm, with the residual add). Returns the
 * removers. `enableCpuKernels` calls it; attention's own ops are registered by `enableCpuAttention`
 * in @tsformer/attention.
 */
export function registerCpuStepOps(pool: KernelPool, backendName: string): (() => void)[] {
  return [
    normalize.register(backendName, cpuNormalize(pool)),
    addNormalize.register(backendName, cpuAddNormalize(pool)),
  ];
}
