import { wgslActivation } from './wgsl-activations.js';
import type { WgslKernel } from './wgsl-kernel.js';

/** How a linear weight lies in its GPU buffer: PyTorch's `[out, in]`, or transposed `[in, out]`. */
export type WeightOrder = 'out-in' | 'in-out';

/** How a weight's elements are stored: float32, or bfloat16 pairs packed into 32-bit words. */
export type GpuWeightDtype = 'fp32' | 'bf16';

/** The most rows (tokens × beams) the matrix-vector kernel takes: decode's rows. More go to `gemmKernel`. */
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

/** A linear kernel variant: `rows` decode rows, the weight's order and dtype, and its epilogue. */
export interface LinearVariant {
  rows: number;
  order: WeightOrder;
  dtype: GpuWeightDtype;
  hasBias: boolean;
  /** An activation applied after the bias (an HF name `hasWgslActivation` accepts). */
  activation?: string;
  /** Adds the input `residual` `[rows, out]` last. */
  hasResidual?: boolean;
  /**
   * A second weight `U` of the same shape and order, read in the same pass (a gated MLP's up
   * projection): the result is `activate(x·Wᵀ + bias) · (x·Uᵀ + upBias)`.
   */
  up?: { dtype: GpuWeightDtype; hasBias: boolean };
}

/** The most rows a gated variant takes: its two partial-sum arrays must fit 16 KiB of workgroup memory. */
export const MAX_GATED_ROWS = 4;

/** Workgroups for `outFeatures` outputs. */
export function linearWorkgroups(order: WeightOrder, outFeatures: number): number {
  const outputsPerWorkgroup = order === 'out-in' ? THREADS / LANES_PER_OUTPUT : OUTPUTS_PER_COLUMN_TILE;
  return Math.ceil(outFeatures / outputsPerWorkgroup);
}

const kernels = new Map<string, WgslKernel>();

/**
 * `result[r, o] = Σ_k x[r, k] · W[o, k] (+ bias[o])`, then the variant's epilogue, for a few rows r
 * (decode): a matrix-vector product that reads the weight once for all rows, sums in float32 in a fixed
 * order (partial sums per thread, then a tree in workgroup memory), and widens bf16 weights by a 16-bit
 * shift (exact). Inputs in order: `x` `[rows, in]`, `W`, `bias`, `U`, `upBias`, `residual` (those the
 * variant has); uniforms `inFeatures`, `outFeatures`; `linearWorkgroups` workgroups.
 */
export function linearKernel(variant: LinearVariant): WgslKernel {
  const { rows, order, dtype, hasBias, activation, hasResidual, up } = variant;
  const key = `tsformer.linear.${order}.${dtype}.${hasBias}.${rows}.${activation}.${hasResidual}.${up?.dtype}.${up?.hasBias}`;
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
  // Each reduced quantity (the product with W, and with U when gated) gets its sums and partial array.
  const sums = up ? ['sums', 'upSums'] : ['sums'];
  const partials = up ? ['partial', 'upPartial'] : ['partial'];
  let value = `partial[r][group * ${groupSize}]${hasBias ? ' + bias[o]' : ''}`;
  if (activation) value = `activate(${value})`;
  if (up) value = `${value} * (upPartial[r][group * ${groupSize}]${up.hasBias ? ' + upBias[o]' : ''})`;
  if (hasResidual) value = `${value} + residual[r * outFeatures + o]`;
  const kernel: WgslKernel = {
    key,
    outputs: [{ name: 'result', type: 'f32' }],
    inputs: [
      { name: 'x', type: 'f32' },
      { name: 'W', type: weightElement(dtype) },
      ...(hasBias ? [{ name: 'bias', type: 'f32' as const }] : []),
      ...(up ? [{ name: 'U', type: weightElement(up.dtype) }] : []),
      ...(up?.hasBias ? [{ name: 'upBias', type: 'f32' as const }] : []),
      ...(hasResidual ? [{ name: 'residual', type: 'f32' as const }] : []),
    ],
    uniforms: [
      { name: 'inFeatures', type: 'i32' },
      { name: 'outFeatures', type: 'i32' },
    ],
    workgroupSize: THREADS,
    helpers: `
      ${weightReader('W', dtype)}
      ${up ? weightReader('U', up.dtype, 'upWeightAt') : ''}
      ${activation ? wgslActivation(activation) : ''}
      ${partials.map((name) => `var<workgroup> ${name} : array<array<f32, ${THREADS}>, ${rows}>;`).join('\n')}
    `,
    body: `
      let inFeatures = uniforms.inFeatures;
      let outFeatures = uniforms.outFeatures;
      ${assignment}
      let o = workgroupIndex * ${groups} + group;
      ${sums.map((name) => `var ${name} : array<f32, ${rows}>;`).join(' ')}
      if (o < outFeatures) {
        for (var k = lane; k < inFeatures; k += ${groupSize}) {
          let w = weightAt(${weightIndex});
          ${up ? `let u = upWeightAt(${weightIndex});` : ''}
          for (var r = 0; r < ${rows}; r++) {
            let xk = x[r * inFeatures + k];
            sums[r] += xk * w;
            ${up ? 'upSums[r] += xk * u;' : ''}
          }
        }
      }
      let at = group * ${groupSize} + lane;
      for (var r = 0; r < ${rows}; r++) {
        ${partials.map((name, i) => `${name}[r][at] = ${sums[i]}[r];`).join(' ')}
      }
      workgroupBarrier();
      for (var stride = ${groupSize / 2}; stride > 0; stride = stride / 2) {
        if (lane < stride) {
          for (var r = 0; r < ${rows}; r++) {
            ${partials.map((name) => `${name}[r][at] = ${name}[r][at] + ${name}[r][at + stride];`).join(' ')}
          }
        }
        workgroupBarrier();
      }
      if (lane == 0 && o < outFeatures) {
        for (var r = 0; r < ${rows}; r++) {
          result[r * outFeatures + o] = ${value};
        }
      }
    `,
  };
  kernels.set(key, kernel);
  return kernel;
}
