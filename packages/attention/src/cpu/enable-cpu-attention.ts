import { CPU_KERNEL_BACKENDS, DecodeAttentionKernel, type KernelPool } from '@tsformer/kernels';
import { decodeAttention } from '../decode-attention.js';
import { rotaryKeyValues } from '../rotary-key-values.js';
import { cpuDecodeAttention } from './cpu-decode-attention.js';
import { cpuRotaryKeyValues } from './cpu-rotary-key-values.js';

let removers: (() => void)[] = [];
let enabledPool: KernelPool | undefined;

/**
 * Serves attention's fused ops on the wasm and cpu backends with the WebAssembly kernels of `pool`
 * (`enableCpuKernels`'s): `decodeAttention` at decode steps and `rotaryKeyValues` (RoPE, then the
 * cache). `fromPretrained` calls it beside `enableCpuKernels`; a later call with the same pool changes
 * nothing (the kernel keeps its heap copies of live caches' blocks), one with another pool replaces the
 * registration. Results equal the portable ops' to float32 rounding (another summation order).
 */
export function enableCpuAttention(pool: KernelPool): void {
  if (removers.length > 0 && enabledPool === pool) return;
  disableCpuAttention();
  enabledPool = pool;
  const kernel = new DecodeAttentionKernel(pool);
  const attention = cpuDecodeAttention(kernel);
  const rotary = cpuRotaryKeyValues(pool);
  removers = [
    ...CPU_KERNEL_BACKENDS.flatMap((backend) => [
      decodeAttention.register(backend, attention),
      rotaryKeyValues.register(backend, rotary),
    ]),
    () => kernel.release(),
  ];
}

/** Gives `decodeAttention` and `rotaryKeyValues` back to their portable tfjs implementations on wasm and cpu. */
export function disableCpuAttention(): void {
  for (const remove of removers) remove();
  removers = [];
  enabledPool = undefined;
}
