import { GEMM_TILE as TILE } from './gemm-grid.js';
import { type LinearVariant, weightElement, weightReader } from './linear-program.js';
import { wgslActivation } from './wgsl-activations.js';
import type { WgslKernel } from './wgsl-kernel.js';

/** Threads per side: 8 × 8 threads, each computing 4 consecutive rows × 4 consecutive columns of the tile. */
const SIDE = 8;
/**
 * Workgroup memory holds each tile as `[k][quad]` of vec4 (4 rows of `x`, or 4 columns of a weight, per
 * vec4), each k's 8 quads padded to 9 so that threads storing consecutive k reach different banks.
 */
const QUADS = SIDE + 1;

/** A many-row linear variant: a `LinearVariant` without its row count, which the kernel takes as a uniform. */
export type GemmVariant = Omit<LinearVariant, 'rows'>;

/**
 * The epilogue of one result element as WGSL: `gate` (and `up`) are its sums, `o` its column, `index` its
 * flat index in `[rows, outFeatures]`.
 */
export function gemmEpilogue(
  variant: GemmVariant,
  gate: string,
  up: string,
  o: string,
  index: string,
): string {
  const { hasBias, activation, hasResidual } = variant;
  let value = `${gate}${hasBias ? ` + bias[${o}]` : ''}`;
  if (activation) value = `activate(${value})`;
  if (variant.up) value = `${value} * (${up}${variant.up.hasBias ? ` + upBias[${o}]` : ''})`;
  if (hasResidual) value = `${value} + residual[${index}]`;
  return value;
}

const kernels = new Map<string, WgslKernel>();

/**
 * `result[r, o] = Σ_k x[r, k] · W[o, k] (+ bias[o])`, then the variant's epilogue (activation, gated up
 * projection, residual — as `linearKernel`), for any number of rows (a prefill): a tiled matrix product
 * whose workgroup stages 32 × 32 tiles of `x` and of the weight (either order, float32 or bf16 widened
 * by a shift) in workgroup memory as vec4s and accumulates a 32 × 32 block of the result, 4 × 4 per
 * thread (two vec4 reads of workgroup memory per 16 multiply-adds), in float32, in order of `k`. Inputs as
 * `linearKernel`'s; uniforms `rows`, `inFeatures`, `outFeatures` and `kSlice`; `gemmGrid`'s workgroups,
 * workgroup `s · tiles + t` summing `k` in `[s · kSlice, (s + 1) · kSlice)` for tile `t`.
 * `split`: the workgroups write their sums unfinished to `partials` (and `upPartials`), `[splits, rows,
 * outFeatures]`, and take only `x` and the weights; `gemmReduceKernel` adds the slices and applies the epilogue.
 */
export function gemmKernel(variant: GemmVariant, split: boolean): WgslKernel {
  const { order, dtype, hasBias, hasResidual, up } = variant;
  const activation = split ? undefined : variant.activation;
  const key = split
    ? `tsformer.gemm-split.${order}.${dtype}.${up?.dtype}`
    : `tsformer.gemm.${order}.${dtype}.${hasBias}.${activation}.${hasResidual}.${up?.dtype}.${up?.hasBias}`;
  const known = kernels.get(key);
  if (known) return known;
  // Element (n, k) of a weight: `[out, in]` or `[in, out]`.
  const weightIndex = order === 'out-in' ? 'n * inFeatures + k' : 'k * outFeatures + n';
  // Which (n, k) of the tile thread `tid` loads at step `i`: consecutive threads along the weight's rows.
  const tileElement =
    order === 'out-in'
      ? `let kk = e % ${TILE}; let nn = e / ${TILE};`
      : `let nn = e % ${TILE}; let kk = e / ${TILE};`;
  const weightTiles = up ? ['weightTile', 'upTile'] : ['weightTile'];
  const readers = up ? ['weightAt', 'upWeightAt'] : ['weightAt'];
  const sums = up ? ['sums', 'upSums'] : ['sums'];
  const store = split
    ? `let at = (split * rows + r) * outFeatures + o; partials[at] = sums[i][j];${up ? ' upPartials[at] = upSums[i][j];' : ''}`
    : `result[r * outFeatures + o] = ${gemmEpilogue(variant, 'sums[i][j]', 'upSums[i][j]', 'o', 'r * outFeatures + o')};`;
  const kernel: WgslKernel = {
    key,
    outputs: split
      ? [{ name: 'partials', type: 'f32' }, ...(up ? [{ name: 'upPartials', type: 'f32' as const }] : [])]
      : [{ name: 'result', type: 'f32' }],
    inputs: [
      { name: 'x', type: 'f32' },
      { name: 'W', type: weightElement(dtype) },
      ...(hasBias && !split ? [{ name: 'bias', type: 'f32' as const }] : []),
      ...(up ? [{ name: 'U', type: weightElement(up.dtype) }] : []),
      ...(up?.hasBias && !split ? [{ name: 'upBias', type: 'f32' as const }] : []),
      ...(hasResidual && !split ? [{ name: 'residual', type: 'f32' as const }] : []),
    ],
    uniforms: [
      { name: 'rows', type: 'i32' },
      { name: 'inFeatures', type: 'i32' },
      { name: 'outFeatures', type: 'i32' },
      { name: 'kSlice', type: 'i32' },
    ],
    workgroupSize: SIDE * SIDE,
    helpers: `
      ${weightReader('W', dtype)}
      ${up ? weightReader('U', up.dtype, 'upWeightAt') : ''}
      ${activation ? wgslActivation(activation) : ''}
      var<workgroup> xTile : array<vec4<f32>, ${TILE * QUADS}>;
      ${weightTiles.map((name) => `var<workgroup> ${name} : array<vec4<f32>, ${TILE * QUADS}>;`).join('\n')}
    `,
    body: `
      let rows = uniforms.rows;
      let inFeatures = uniforms.inFeatures;
      let outFeatures = uniforms.outFeatures;
      let columnTiles = (outFeatures + ${TILE - 1}) / ${TILE};
      let tiles = ((rows + ${TILE - 1}) / ${TILE}) * columnTiles;
      let split = workgroupIndex / tiles;
      let tile = workgroupIndex % tiles;
      let rowStart = (tile / columnTiles) * ${TILE};
      let columnStart = (tile % columnTiles) * ${TILE};
      let kBegin = split * uniforms.kSlice;
      let kEnd = min(kBegin + uniforms.kSlice, inFeatures);
      // Whole workgroups past the work (a folded grid's excess) leave together, before any barrier.
      if (kBegin >= inFeatures) { return; }
      let tx = tid % ${SIDE}; // columns 4·tx … 4·tx + 3 of the tile
      let ty = tid / ${SIDE}; // rows 4·ty … 4·ty + 3
      ${sums.map((name) => `var ${name} : array<vec4<f32>, 4>;`).join(' ')}
      for (var kStart = kBegin; kStart < kEnd; kStart += ${TILE}) {
        // [32 rows, 32 k] of x, consecutive threads along k; zeros past the edges.
        for (var e = tid; e < ${TILE * TILE}; e += ${SIDE * SIDE}) {
          let rr = e / ${TILE};
          let kk = e % ${TILE};
          let r = rowStart + rr;
          let k = kStart + kk;
          xTile[kk * ${QUADS} + rr / 4][rr % 4] = select(0.0, x[r * inFeatures + k], r < rows && k < inFeatures);
        }
        // [32 k, 32 n] of each weight, read along its stored rows.
        for (var e = tid; e < ${TILE * TILE}; e += ${SIDE * SIDE}) {
          ${tileElement}
          let n = columnStart + nn;
          let k = kStart + kk;
          let inside = n < outFeatures && k < inFeatures;
          ${weightTiles
            .map(
              (name, w) =>
                `${name}[kk * ${QUADS} + nn / 4][nn % 4] = select(0.0, ${readers[w]}(select(0, ${weightIndex}, inside)), inside);`,
            )
            .join('\n          ')}
        }
        workgroupBarrier();
        for (var kk = 0; kk < ${TILE}; kk++) {
          let xs = xTile[kk * ${QUADS} + ty];
          ${weightTiles
            .map(
              (name, w) => `let w${w} = ${name}[kk * ${QUADS} + tx];
          ${sums[w]}[0] += xs.x * w${w};
          ${sums[w]}[1] += xs.y * w${w};
          ${sums[w]}[2] += xs.z * w${w};
          ${sums[w]}[3] += xs.w * w${w};`,
            )
            .join('\n          ')}
        }
        workgroupBarrier();
      }
      for (var i = 0; i < 4; i++) {
        let r = rowStart + ty * 4 + i;
        for (var j = 0; j < 4; j++) {
          let o = columnStart + tx * 4 + j;
          if (r < rows && o < outFeatures) { ${store} }
        }
      }
    `,
  };
  kernels.set(key, kernel);
  return kernel;
}

const reduceKernels = new Map<string, WgslKernel>();

/** Threads per workgroup of `gemmReduceKernel`, one per result element. */
export const GEMM_REDUCE_WORKGROUP = 256;

/**
 * The second pass of a split GEMM: `result[r, o]` = the variant's epilogue of `Σ_s partials[s, r, o]`
 * (and of the up projection's `upPartials`), the slices added in order `s = 0, 1, …` so that results do
 * not depend on scheduling. Inputs `partials` (`upPartials`), then `bias`, `upBias`, `residual` as the
 * variant has them; uniforms `size` (`rows · outFeatures`), `outFeatures`, `splits`; one thread per element.
 */
export function gemmReduceKernel(variant: GemmVariant): WgslKernel {
  const { hasBias, activation, hasResidual, up } = variant;
  const key = `tsformer.gemm-reduce.${hasBias}.${activation}.${hasResidual}.${up !== undefined}.${up?.hasBias}`;
  const known = reduceKernels.get(key);
  if (known) return known;
  const kernel: WgslKernel = {
    key,
    outputs: [{ name: 'result', type: 'f32' }],
    inputs: [
      { name: 'partials', type: 'f32' },
      ...(up ? [{ name: 'upPartials', type: 'f32' as const }] : []),
      ...(hasBias ? [{ name: 'bias', type: 'f32' as const }] : []),
      ...(up?.hasBias ? [{ name: 'upBias', type: 'f32' as const }] : []),
      ...(hasResidual ? [{ name: 'residual', type: 'f32' as const }] : []),
    ],
    uniforms: [
      { name: 'size', type: 'i32' },
      { name: 'outFeatures', type: 'i32' },
      { name: 'splits', type: 'i32' },
    ],
    workgroupSize: GEMM_REDUCE_WORKGROUP,
    helpers: activation ? wgslActivation(activation) : '',
    body: `
      let size = uniforms.size;
      if (globalIndex >= size) { return; }
      let o = globalIndex % uniforms.outFeatures;
      var sum = 0.0;
      ${up ? 'var upSum = 0.0;' : ''}
      for (var s = 0; s < uniforms.splits; s++) {
        sum += partials[s * size + globalIndex];
        ${up ? 'upSum += upPartials[s * size + globalIndex];' : ''}
      }
      result[globalIndex] = ${gemmEpilogue(variant, 'sum', 'upSum', 'o', 'globalIndex')};
    `,
  };
  reduceKernels.set(key, kernel);
  return kernel;
}
