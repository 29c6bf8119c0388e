import type { DecodeAttentionKernel } from '@tsformer/kernels';
import { checkAttentionInput } from '../attention-input.js';
import type { AttentionInput, AttentionOutput } from '../attention-types.js';

/**
 * `decodeAttention` on wasm and cpu: one query per row (a decode step) over every cache block in one
 * WebAssembly call for all rows and heads (`DecodeAttentionKernel`), on the calling thread — a step's
 * attention is a few hundred microseconds, less than the pool's wake-up and hand-back would save.
 * Everything else (prefill, attention maps, head masks, T5's position bias, training, other dtypes, and
 * a step whose blocks the pool's heap has no room to copy) goes to the portable implementation.
 */
export function cpuDecodeAttention(kernel: DecodeAttentionKernel) {
  return (input: AttentionInput): AttentionOutput | undefined => {
    const { query, mask, positionBias, headMask, outputAttentions, training } = input;
    if (query.shape[2] !== 1 || query.dtype !== 'float32') return undefined;
    if (positionBias != null || headMask != null || outputAttentions || training) return undefined;
    if (mask != null && mask.dtype !== 'float32') return undefined;
    const { keys, values, headDim, valueDim, scale, softcap } = checkAttentionInput(input);
    const float32 = [...keys, ...values].every((tensor) => tensor.dtype === 'float32');
    if (valueDim !== headDim || !float32) return undefined;
    const output = kernel.attend({ query, keys, values, mask: mask ?? null, scale, softcap });
    return output && { output: output as typeof query }; // [batch, heads, 1, headDim]
  };
}
