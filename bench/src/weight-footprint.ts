import type { Module } from '@tsformer/core-tensor';
import { PACKED_LAYOUT_KEY, type PackedParameterLayout } from '@tsformer/kernels';

/** The bytes of weights a model holds and their dtypes, as a decode step streams them. */
export interface WeightFootprint {
  /** Every distinct parameter once: packed bytes where the CPU kernels hold it, else 4 per value. */
  bytes: number;
  /** The element types held: `fp32`, `bf16`, `fp16`, `int8`. */
  dtypes: string[];
}

/**
 * What `model`'s weights take: a decode step reads (nearly) all of them once per token — every
 * projection and a tied head in full; position tables and norms are the small rest — so tokens/s ×
 * `bytes` is the bandwidth a decode achieves.
 */
export function weightFootprint(model: Module): WeightFootprint {
  let bytes = 0;
  const dtypes = new Set<string>();
  for (const parameter of model.parameters()) {
    if (parameter.isSet && !parameter.hasTensor) {
      const { packed } = parameter.derived<PackedParameterLayout>(PACKED_LAYOUT_KEY, () => {
        throw new Error('a parameter with neither a tensor nor a packed layout');
      });
      bytes += packed.bytes;
      dtypes.add(packed.dtype);
    } else {
      bytes += 4 * parameter.size;
      dtypes.add('fp32');
    }
  }
  return { bytes, dtypes: [...dtypes].sort() };
}
