/** Rows and columns of the output tile one GEMM workgroup computes, and the depth of one step along `in`. */
export const GEMM_TILE = 32;

/**
 * Workgroups a prefill GEMM aims for: about 8 per streaming multiprocessor of a large GPU (the H200 has
 * 132), 16 warps, so that each SM has others to run while one waits on its loads. GPT-2's 128 × 768
 * outputs are only 96 tiles of 32 × 32: one workgroup each leaves a third of the SMs idle and the rest
 * with one or two warps, each looping over all of `in` with nothing to hide its memory latency.
 */
const TARGET_WORKGROUPS = 1024;

/** The shortest slice of `in` the grid rule gives one workgroup: 4 tile steps, so a slice's loads outweigh its partial write. */
const MIN_SLICE = 4 * GEMM_TILE;

/**
 * How the GEMM's grid is chosen: `splits` forces that many slices of `in` (1: no split; at most one per
 * tile step), for tests and benchmarks; unset, `gemmGrid`'s rule by shape.
 */
export interface GemmOptions {
  splits?: number;
}

/** The GEMM's grid: `splits` slices of `in`, `slice` long (a multiple of the tile), over every output tile. */
export interface GemmGrid {
  splits: number;
  slice: number;
  workgroups: number;
}

/**
 * The grid of a `[rows, inFeatures] × [inFeatures, outFeatures]` GEMM. Split-K when the output tiles are
 * too few for `TARGET_WORKGROUPS`: each workgroup sums one slice of `in` (at least `MIN_SLICE` long) for
 * its tile into a partial buffer, and a second dispatch adds the slices in order (deterministic). Forced
 * (`options.splits`), slices go down to one tile step, so even a short `in` splits.
 */
export function gemmGrid(
  rows: number,
  inFeatures: number,
  outFeatures: number,
  options: GemmOptions = {},
): GemmGrid {
  const tiles = Math.ceil(rows / GEMM_TILE) * Math.ceil(outFeatures / GEMM_TILE);
  const wanted = Math.ceil(TARGET_WORKGROUPS / tiles);
  let splits =
    options.splits === undefined
      ? Math.min(wanted, Math.floor(inFeatures / MIN_SLICE))
      : Math.min(options.splits, Math.ceil(inFeatures / GEMM_TILE));
  splits = Math.max(1, Math.floor(splits));
  // Slices are whole tile steps, so no step straddles two slices; the last slice takes what is left.
  const slice = Math.ceil(Math.ceil(inFeatures / splits) / GEMM_TILE) * GEMM_TILE;
  splits = Math.ceil(inFeatures / slice);
  return { splits, slice, workgroups: tiles * splits };
}
