import { decodeAttention } from '../decode-attention.js';
import { projectQueryKeyValueHeads } from '../project-query-key-value-heads.js';
import { rotaryKeyValues } from '../rotary-key-values.js';
import { storeFusedQueryKeyValue } from '../store-fused-query-key-value.js';
import { webgpuDecodeAttention } from './webgpu-decode-attention.js';
import { webgpuStoreFusedQueryKeyValue } from './webgpu-fused-query-key-value.js';
import { webgpuPrefillAttention } from './webgpu-prefill-attention.js';
import { webgpuProjectQueryKeyValueHeads } from './webgpu-project-query-key-value-heads.js';
import { webgpuRotaryKeyValues } from './webgpu-rotary-key-values.js';

let removers: (() => void)[] = [];

/**
 * Serves attention's fused ops on the webgpu backend with WGSL programs (`decodeAttention` for decode
 * steps and prefills, `rotaryKeyValues`, `storeFusedQueryKeyValue`, `projectQueryKeyValueHeads`).
 * `fromPretrained` calls it when the model runs on webgpu, beside `enableWebgpuKernels`; calling
 * it again does nothing. Results equal the portable ops' to float32 rounding (another summation order).
 */
export function enableWebgpuAttention(): void {
  if (removers.length > 0) return;
  removers = [
    decodeAttention.register(
      'webgpu',
      (input) => webgpuDecodeAttention(input) ?? webgpuPrefillAttention(input),
    ),
    rotaryKeyValues.register('webgpu', webgpuRotaryKeyValues),
    storeFusedQueryKeyValue.register('webgpu', webgpuStoreFusedQueryKeyValue),
    projectQueryKeyValueHeads.register('webgpu', webgpuProjectQueryKeyValueHeads),
  ];
}

/** Gives attention's fused ops back to their portable tfjs implementations on webgpu. */
export function disableWebgpuAttention(): void {
  for (const remove of removers) remove();
  removers = [];
}
