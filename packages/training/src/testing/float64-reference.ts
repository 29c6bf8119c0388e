import type { SafetensorsReader } from '@tsformer/core-tensor';
import type { Float64Values } from './compare-elements.js';

/** Losses and gradient norms before each step, as training.json lists them. */
interface TrainingScalars {
  losses: number[];
  grad_norms_before_clipping: number[];
}

/** The largest |float32 − float64| of one float32 run over a tensor's elements. */
interface RunDistance {
  max: number;
}

/**
 * training-float64.json of a reference folder (scripts/training-reference-float64.py): the float64
 * losses and norms, PyTorch's float32 runs' (the fixture, CPU again, CUDA), and per tensor how far
 * each float32 run went from float64.
 */
export interface Float64TrainingJson extends TrainingScalars {
  fixture: TrainingScalars;
  float32_runs: Record<string, TrainingScalars>;
  /** Per tensor, `<run>_vs_float64` for the fixture and each float32 run (and other measurements). */
  tensors: Record<string, Record<string, RunDistance | number>>;
}

/**
 * The float64 redo of a folder's training reference: training-float64.json, and
 * training-float64.safetensors, which holds, per `grad.<name>` / `step3.<name>`, only the elements
 * where PyTorch's float32 value differs from float64 by more than 1e-7 + 1e-7·|x| (`.indices`, I32
 * flat positions, and `.values`, F64); elsewhere PyTorch's float32 value stands for float64.
 */
export interface Float64TrainingReference {
  json: Float64TrainingJson;
  tensors: SafetensorsReader;
}

/** The float64 values of reference tensor `key` given PyTorch's float32 values of it, with PyTorch's spread. */
export async function float64Tensor(
  reference: Float64TrainingReference,
  key: string,
  pytorch: ArrayLike<number>,
  spreadFactor: number,
): Promise<Float64Values> {
  const values = Float64Array.from(pytorch);
  if (reference.tensors.names().includes(`${key}.indices`)) {
    const [indices, stored] = await Promise.all([
      reference.tensors.readRaw(`${key}.indices`),
      reference.tensors.readRaw(`${key}.values`),
    ]);
    for (let i = 0; i < indices.data.length; i++) values[Number(indices.data[i])] = Number(stored.data[i]);
  }
  const distances = Object.entries(reference.json.tensors[key] ?? {})
    .filter(([run]) => run.endsWith('_vs_float64'))
    .map(([, distance]) => (distance as RunDistance).max);
  const spread = Math.max(0, ...distances);
  return { values, spread, spreadFactor };
}

/** The float64 value of `losses[step]` or `grad_norms_before_clipping[step]`, with PyTorch's spread. */
export function float64Scalar(
  reference: Float64TrainingReference,
  which: keyof TrainingScalars,
  step: number,
  spreadFactor: number,
): Float64Values | undefined {
  const exact = reference.json[which][step];
  if (exact === undefined) return undefined;
  const runs = [reference.json.fixture, ...Object.values(reference.json.float32_runs)];
  const spread = Math.max(...runs.map((run) => Math.abs((run[which][step] ?? exact) - exact)));
  return { values: [exact], spread, spreadFactor };
}
