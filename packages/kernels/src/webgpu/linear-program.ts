import type { WgslKernel } from './wgsl-kernel.js';

/** How a linear weight lies in its GPU buffer: PyTorch's `[out, in]`, or transposed `[in, out]`. */
export type WeightOrder = 'out-in' | 'in-out';

/** How a weight's elements are stored: float32, or bfloat16 pairs packed into 32-bit words. */
export type GpuWeightDtype = 'fp32' | 'bf16';

/** The most rows (tokens × beams) one call takes: decode's rows. Prefill goes to tfjs's matMul. */
export const MAX_LINEAR_ROWS = 8;

const THREADS = 256;
/** `out-in`: one 32-thread group reads one output's row of the weight (consecutive `in`, coalesced). */
const LANES_PER_OUTPUT = 32;
/** `in-out`: 64 consecutive outputs per workgroup (coalesced along `out`), `in` split over 4 slices. */
const OUTPUTS_PER_COLUMN_TILE = 64;

/**
 * The WGSL function `weightAt(e) -> f32` reading element `e` of the weight buffer `name`: float32
 * elements, or int32 words each holding two bf16 elements (the lower one first), widened by a shift.
 */
export function weightReader(name: string, dtype: GpuWeightDtype, fn = 'weightAt'): string {
  return dtype === 'fp32'
    ? `fn ${fn}(e : i32) -> f32 { return ${name}[e]; }`
    : `fn ${fn}(e : i32) -> f32 {
         let word = bitcast<u32>(${name}[e >> 1u]);
         return bitcast<f32>(select(word & 0xffff0000u, word << 16u, (e & 1) == 0));
       }`;
}

/** The buffer element type a weight of `dtype` is bound as. */
export function weightElement(dtype: GpuWeightDtype): 'f32' | 'i32' {
  return dtype === 'fp32' ? 'f32' : 'i32';
}

/** A linear kernel variant: `rows` decode rows, the weight's order and dtype, whether a bias is added. */
export interface LinearVariant {
  rows: number;
  order: WeightOrder;
  dtype: GpuWeightDtype;
  hasBias: boolean;
}

/** Workgroups for `outFeatures` outputs. */
export function linearWorkgroups(order: WeightOrder, outFeatures: number): number {
  const outputsPerWorkgroup = order === 'out-in' ? THREADS / LANES_PER_OUTPUT : OUTPUTS_PER_COLUMN_TILE;
  return Math.ceil(outFeatures / outputsPerWorkgroup);
}

const kernels = new Map<string, WgslKernel>();

/**
 * `result[r, o] = Σ_k x[r, k] · W[o, k] (+ bias[o])` for a few rows r (decode): a matrix-vector product
 * that reads the weight once for all rows, sums in float32 in a fixed order (partial sums per thread,
 * then a tree in workgroup memory), and widens bf16 weights by a 16-bit shift (exact). Inputs: `x`
 * `[rows, in]`, `W`, `bias`; uniforms `inFeatures`, `outFeatures`; `linearWorkgroups` workgroups.
 */
export function linearKernel({ rows, order, dtype, hasBias }: LinearVariant): WgslKernel {
  const key = `tsformer.linear.${order}.${dtype}.${hasBias}.${rows}`;
  const known = kernels.get(key);
  if (known) return known;
  const [groupSize, groups] =
    order === 'out-in'
      ? [LANES_PER_OUTPUT, THREADS / LANES_PER_OUTPUT]
      : [THREADS / OUTPUTS_PER_COLUMN_TILE, OUTPUTS_PER_COLUMN_TILE];
  // out-in: thread t → output (t / 32), lane t % 32 strides over k. in-out: thread t → output (t % 64),
  // slice t / 64 strides over k by 4. Either way `partial[r][group * groupSize + lane]` is then summed over lanes.
  const assignment =
    order === 'out-in'
      ? `let lane = tid % ${groupSize}; let group = tid / ${groupSize};`
      : `let lane = tid / ${groups}; let group = tid % ${groups};`;
  const weightIndex = order === 'out-in' ? 'o * inFeatures + k' : 'k * outFeatures + o';
  const kernel: WgslKernel = {
    key,
    outputs: [{ name: 'result', type: 'f32' }],
    inputs: [
      { name: 'x', type: 'f32' },
      { name: 'W', type: weightElement(dtype) },
      ...(hasBias ? [{ name: 'bias', type: 'f32' as const }] : []),
    ],
    uniforms: [
      { name: 'inFeatures', type: 'i32' },
      { name: 'outFeatures', type: 'i32' },
    ],
    workgroupSize: THREADS,
    helpers: `
      ${weightReader('W', dtype)}
      var<workgroup> partial : array<array<f32, ${THREADS}>, ${rows}>;
    `,
    body: `
      let inFeatures = uniforms.inFeatures;
      let outFeatures = uniforms.outFeatures;
      ${assignment}
      let o = workgroupIndex * ${groups} + group;
      var sums : array<f32, ${rows}>;
      if (o < outFeatures) {
        for (var k = lane; k < inFeatures; k += ${groupSize}) {
          let w = weightAt(${weightIndex});
          for (var r = 0; r < ${rows}; r++) { sums[r] += x[r * inFeatures + k] * w; }
        }
      }
      for (var r = 0; r < ${rows}; r++) { partial[r][group * ${groupSize} + lane] = sums[r]; }
      workgroupBarrier();
      for (var stride = ${groupSize / 2}; stride > 0; stride = stride / 2) {
        if (lane < stride) {
          for (var r = 0; r < ${rows}; r++) {
            let at = group * ${groupSize} + lane;
            partial[r][at] = partial[r][at] + partial[r][at + stride];
          }
        }
        workgroupBarrier();
      }
      if (lane == 0 && o < outFeatures) {
        for (var r = 0; r < ${rows}; r++) {
          result[r * outFeatures + o] = partial[r][group * ${groupSize}] + ${hasBias ? 'bias[o]' : '0.0'};
        }
      }
    `,
  };
  kernels.set(key, kernel);
  return kernel;
}
