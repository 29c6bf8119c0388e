import type { WebgpuProgram } from './webgpu-backend.js';

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
 * `y[r, o] = Σ_k x[r, k] · W[o, k] (+ bias[o])` for a few rows r (decode): a matrix-vector product that
 * reads the weight once for all rows, sums in float32 in a fixed order (partial sums per thread, then a
 * tree in workgroup memory), and widens bf16 weights by a 16-bit shift (exact). Inputs: `x` `[rows, in]`,
 * `W` (float32 elements, or int32 words each holding two bf16 elements, the lower one first), `bias`.
 */
export class LinearProgram implements WebgpuProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0], y: [1] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'inFeatures : i32, outFeatures : i32,';

  constructor(
    readonly rows: number,
    outFeatures: number,
    readonly order: WeightOrder,
    readonly dtype: GpuWeightDtype,
    readonly hasBias: boolean,
  ) {
    this.variableNames = hasBias ? ['x', 'W', 'bias'] : ['x', 'W'];
    this.outputShape = [rows, outFeatures];
    const outputsPerWorkgroup = order === 'out-in' ? THREADS / LANES_PER_OUTPUT : OUTPUTS_PER_COLUMN_TILE;
    this.dispatch = [Math.ceil(outFeatures / outputsPerWorkgroup), 1, 1];
    this.shaderKey = `tsformerLinear_${order}_${dtype}_${hasBias}_${rows}`;
  }

  getUserCode(): string {
    const rows = this.rows;
    const weightAt =
      this.dtype === 'fp32'
        ? 'fn weightAt(e : i32) -> f32 { return W[e]; }'
        : `fn weightAt(e : i32) -> f32 {
             let word = bitcast<u32>(W[e >> 1u]);
             let bits = select(word & 0xffff0000u, word << 16u, (e & 1) == 0);
             return bitcast<f32>(bits);
           }`;
    const addBias = this.hasBias ? 'bias[o]' : '0.0';
    const [groupSize, groups] =
      this.order === 'out-in'
        ? [LANES_PER_OUTPUT, THREADS / LANES_PER_OUTPUT]
        : [THREADS / OUTPUTS_PER_COLUMN_TILE, OUTPUTS_PER_COLUMN_TILE];
    // out-in: thread t → output (t / 32), lane t % 32 strides over k. in-out: thread t → output (t % 64),
    // slice t / 64 strides over k by 4. Either way `partial[group][lane]` is then summed over lanes.
    const assignment =
      this.order === 'out-in'
        ? `let lane = tid % ${groupSize}; let group = tid / ${groupSize};`
        : `let lane = tid / ${groups}; let group = tid % ${groups};`;
    const weightIndex = this.order === 'out-in' ? 'o * inFeatures + k' : 'k * outFeatures + o';
    return `
      ${weightAt}
      var<workgroup> partial : array<array<f32, ${THREADS}>, ${rows}>;
      fn main() {
        let tid = i32(localId.x);
        let inFeatures = uniforms.inFeatures;
        let outFeatures = uniforms.outFeatures;
        ${assignment}
        let o = i32(workgroupId.x) * ${groups} + group;
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
            result[r * outFeatures + o] = partial[r][group * ${groupSize}] + ${addBias};
          }
        }
      }
    `;
  }
}
