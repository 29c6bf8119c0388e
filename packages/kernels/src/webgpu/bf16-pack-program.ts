import type { WgslKernel } from './wgsl-kernel.js';

const THREADS = 256;

/**
 * Packs float32 elements two to a 32-bit word as bfloat16 (their upper 16 bits; element 2j in the lower
 * half, 2j + 1 in the upper): `result` `[ceil(n / 2)]` int32 from `W` `[n]`, uniform `elements`, one
 * thread per word. Truncation, so exact only for values that are bf16 already — `BF16_CHECK` tells.
 */
export const BF16_PACK: WgslKernel = {
  key: 'tsformer.bf16Pack',
  outputs: [{ name: 'result', type: 'i32' }],
  inputs: [{ name: 'W', type: 'f32' }],
  uniforms: [{ name: 'elements', type: 'i32' }],
  workgroupSize: THREADS,
  body: `
    let word = globalIndex;
    let elements = uniforms.elements;
    if (2 * word >= elements) { return; }
    let low = bitcast<u32>(W[2 * word]) >> 16u;
    var high = 0u;
    if (2 * word + 1 < elements) { high = bitcast<u32>(W[2 * word + 1]) & 0xffff0000u; }
    result[word] = bitcast<i32>(low | high);
  `,
};

/**
 * Per workgroup of 256 elements, the OR of their lower 16 bits: `result` `[workgroups]` int32, all zero
 * exactly when every element is a bfloat16 value (packing loses nothing).
 */
export const BF16_CHECK: WgslKernel = {
  key: 'tsformer.bf16Check',
  outputs: [{ name: 'result', type: 'i32' }],
  inputs: [{ name: 'W', type: 'f32' }],
  uniforms: [{ name: 'elements', type: 'i32' }],
  workgroupSize: THREADS,
  helpers: `var<workgroup> bits : array<u32, ${THREADS}>;`,
  body: `
    let e = globalIndex;
    var low = 0u;
    if (e < uniforms.elements) { low = bitcast<u32>(W[e]) & 0xffffu; }
    bits[tid] = low;
    workgroupBarrier();
    for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
      if (tid < stride) { bits[tid] = bits[tid] | bits[tid + stride]; }
      workgroupBarrier();
    }
    if (tid == 0 && workgroupIndex < i32(arrayLength(&result))) { result[workgroupIndex] = bitcast<i32>(bits[0]); }
  `,
};

/** Workgroups of `BF16_PACK` for `elements` elements (one thread per word). */
export function bf16PackWorkgroups(elements: number): number {
  return Math.ceil(Math.ceil(elements / 2) / THREADS);
}

/** Workgroups (and result words) of `BF16_CHECK` for `elements` elements. */
export function bf16CheckWorkgroups(elements: number): number {
  return Math.ceil(elements / THREADS);
}
