import type { Parameter, WeightSource } from '@tsformer/core-tensor';
import type { KernelPool } from './kernel-pool.js';
import type { LinearWeightLayout } from './linear.js';
import { holdPackedLinearWeight, loadPackedLinearWeight } from './packed-parameter.js';
import { packWeightByRows, type RawWeight } from './packed-weight.js';
import type { PackedDtype } from './weight-dtypes.js';

/** What a safetensors reader adds to a WeightSource: the stored dtype and the stored elements. */
interface RawWeightSource extends WeightSource {
  dtype(name: string): string;
  readRaw(name: string): Promise<StoredElements>;
  /** Present on safetensors readers: pieces of rows, so a large tensor is never read whole. */
  readRawRows?(name: string, firstRow: number, rowCount: number): Promise<StoredElements>;
}

interface StoredElements {
  dtype: string;
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** Safetensors dtypes the kernel packs as they are stored. */
const STORED_AS = { F32: 'fp32', BF16: 'bf16', F16: 'fp16' } as const;

/**
 * A `loadParameter` for `Module.loadWeights`: each parameter of `layouts` (the weights only linear
 * layers and embedding tables read, `packableWeights`) is packed straight from the checkpoint's
 * stored elements into `pool`'s heap and held there alone (`Parameter.assignLayout`): no tfjs
 * tensor, and bf16/fp16 weights stay 16-bit. `dtype` (opt-in) packs them in a lower precision.
 * Other parameters load as tensors.
 */
export function packedWeightLoader(
  pool: KernelPool,
  layouts: ReadonlyMap<Parameter, LinearWeightLayout>,
  dtype?: PackedDtype,
): (parameter: Parameter, checkpointName: string, source: WeightSource) => Promise<boolean> {
  return async (parameter, checkpointName, source) => {
    const layout = layouts.get(parameter);
    if (layout === undefined) return false;
    const stored = hasRawElements(source)
      ? STORED_AS[source.dtype(checkpointName) as keyof typeof STORED_AS]
      : undefined;
    if (
      stored !== undefined &&
      dtype !== 'int8' &&
      typeof (source as RawWeightSource).readRawRows === 'function'
    ) {
      // Read a few MiB of rows at a time: the whole tensor never sits in memory beside its packed copy.
      const reader = source as RawWeightSource;
      const readRows = async (first: number, count: number) =>
        ({ ...(await reader.readRawRows!(checkpointName, first, count)), dtype: stored }) as RawWeight;
      const packed = await packWeightByRows(pool, source.shape(checkpointName), stored, readRows, {
        order: layout,
        dtype,
        version: parameter.version + 1,
      });
      holdPackedLinearWeight(parameter, layout, packed);
      return true;
    }
    loadPackedLinearWeight(pool, parameter, layout, await readRawWeight(source, checkpointName), dtype);
    return true;
  };
}

/** A checkpoint tensor's stored elements (F32, BF16, F16), else its float32 values. */
async function readRawWeight(source: WeightSource, name: string): Promise<RawWeight> {
  const stored = hasRawElements(source) ? STORED_AS[source.dtype(name) as keyof typeof STORED_AS] : undefined;
  if (stored !== undefined) {
    const raw = await (source as RawWeightSource).readRaw(name);
    return { dtype: stored, data: raw.data, shape: raw.shape } as RawWeight;
  }
  const tensor = await source.read(name);
  const data = (await tensor.data()) as Float32Array;
  tensor.dispose();
  return { dtype: 'fp32', data, shape: tensor.shape };
}

function hasRawElements(source: WeightSource): source is RawWeightSource {
  const candidate = source as Partial<RawWeightSource>;
  return typeof candidate.readRaw === 'function' && typeof candidate.dtype === 'function';
}
