import { KernelArgumentError } from './errors.js';

/**
 * How a `[in, out]` weight matrix sits in a flat array: element (i, o) is at `i·inStride + o·outStride`.
 * `in-out` is row-major `[in, out]` (GPT-2's Conv1D, a tsformer Parameter stored transposed);
 * `out-in` is row-major `[out, in]` (HF nn.Linear's checkpoint layout).
 */
export interface WeightLayout {
  inFeatures: number;
  outFeatures: number;
  inStride: number;
  outStride: number;
}

export type WeightOrder = 'in-out' | 'out-in';

/** The layout of a 2-D `shape` stored in `order`. */
export function weightLayout(shape: readonly number[], order: WeightOrder, what: string): WeightLayout {
  const [rows, columns] = shape;
  if (shape.length !== 2 || !(rows! > 0) || !(columns! > 0)) {
    throw new KernelArgumentError(`${what}: a weight must be 2-D with non-zero sizes, got [${shape}]`);
  }
  return order === 'in-out'
    ? { inFeatures: rows!, outFeatures: columns!, inStride: columns!, outStride: 1 }
    : { inFeatures: columns!, outFeatures: rows!, inStride: 1, outStride: columns! };
}
