import type { WebgpuProgram } from './webgpu-backend.js';

const THREADS = 256;

/**
 * Packs float32 elements two to a 32-bit word as bfloat16 (their upper 16 bits; element 2j in the lower
 * half, 2j + 1 in the upper): `result` `[ceil(n / 2)]` int32. Truncation, so exact only for values that
 * are bf16 already — `Bf16CheckProgram` tells.
 */
export class Bf16PackProgram implements WebgpuProgram {
  readonly variableNames = ['W'];
  readonly outputShape: number[];
  readonly shaderKey = 'tsformerBf16Pack';
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'elements : i32,';

  constructor(elements: number) {
    const words = Math.ceil(elements / 2);
    this.outputShape = [words];
    this.dispatch = [Math.ceil(words / THREADS), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(word : i32) {
        let elements = uniforms.elements;
        if (2 * word >= elements) { return; }
        let low = bitcast<u32>(W[2 * word]) >> 16u;
        var high = 0u;
        if (2 * word + 1 < elements) { high = bitcast<u32>(W[2 * word + 1]) & 0xffff0000u; }
        result[word] = bitcast<i32>(low | high);
      }
    `;
  }
}

/**
 * Per workgroup of 256 elements, the OR of their lower 16 bits: `result` `[workgroups]` int32, all zero
 * exactly when every element is a bfloat16 value (packing loses nothing).
 */
export class Bf16CheckProgram implements WebgpuProgram {
  readonly variableNames = ['W'];
  readonly outputShape: number[];
  readonly shaderKey = 'tsformerBf16Check';
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'elements : i32,';

  constructor(elements: number) {
    const workgroups = Math.ceil(elements / THREADS);
    this.outputShape = [workgroups];
    this.dispatch = [workgroups, 1, 1];
  }

  getUserCode(): string {
    return `
      var<workgroup> bits : array<u32, ${THREADS}>;
      fn main(e : i32) {
        let tid = i32(localId.x);
        var low = 0u;
        if (e < uniforms.elements) { low = bitcast<u32>(W[e]) & 0xffffu; }
        bits[tid] = low;
        workgroupBarrier();
        for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
          if (tid < stride) { bits[tid] = bits[tid] | bits[tid + stride]; }
          workgroupBarrier();
        }
        if (tid == 0) { result[i32(workgroupId.x)] = bitcast<i32>(bits[0]); }
      }
    `;
  }
}
