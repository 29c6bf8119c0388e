import { CPU_KERNEL_BACKENDS, type KernelPool } from '@tsformer/kernels';
import { decodeAttention } from '../decode-attention.js';
import { cpuDecodeAttention } from './cpu-decode-attention.js';

let removers: (() => void)[] = [];

/**
 * Serves attention's decode step on the wasm and cpu backends with the WebAssembly kernel of `pool`
 * (`enableCpuKernels`'s). `fromPretrained` calls it beside `enableCpuKernels`; a later call replaces
 * the earlier registration. Results equal the portable op's to float32 rounding (another summation order).
 */
export function enableCpuAttention(pool: KernelPool): void {
  disableCpuAttention();
  const kernel = cpuDecodeAttention(pool);
  removers = CPU_KERNEL_BACKENDS.map((backend) => decodeAttention.register(backend, kernel));
}

/** Gives `decodeAttention` back to its portable tfjs implementation on wasm and cpu. */
export function disableCpuAttention(): void {
  for (const remove of removers) remove();
  removers = [];
}
