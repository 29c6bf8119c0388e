import type * as tf from '@tensorflow/tfjs-core';
import { KernelArgumentError } from './errors.js';
import { quantizeInt8PerColumn } from './int8-quantize.js';
import type { KernelPool } from './kernel-pool.js';
import {
  bf16BitsToFloat32,
  float32ToBf16Bits,
  float32ToFp16Bits,
  fp16BitsToFloat32,
  PACKED_DTYPE_BYTES,
  PANEL_COLUMNS,
  type PackedDtype,
} from './weight-dtypes.js';
import { type WeightLayout, type WeightOrder, weightLayout } from './weight-layout.js';

/**
 * Weight values as a checkpoint or a tensor holds them: float32 values, or bf16/fp16 bit patterns
 * (a safetensors BF16/F16 tensor's Uint16Array), so a 16-bit checkpoint is packed without ever being
 * widened to float32 in memory.
 */
export type RawWeight =
  | { dtype: 'fp32'; data: Float32Array; shape: readonly number[] }
  | { dtype: 'bf16' | 'fp16'; data: Uint16Array; shape: readonly number[] };

export interface PackOptions {
  /**
   * The packed element type; default the source's. Widening (bf16/fp16 → fp32) is exact; anything
   * else → bf16/fp16 rounds to nearest even and anything → int8 quantizes per output column: both
   * change the results and are opt-in.
   */
  dtype?: PackedDtype;
  /** `in-out` (default: `[in, out]`, what `x · W` multiplies) or `out-in` (nn.Linear's `[out, in]`). */
  order?: WeightOrder;
  /**
   * The source's version (a Parameter's update counter): the handle records it, so an owner can tell
   * a packed copy made before an update (`packed.version !== parameter.version`) and repack.
   */
  version?: number;
  /** A `[in, out]` tensor of the same values for backends the kernel does not serve; not owned. */
  portable?: tf.Tensor2D;
}

/**
 * A weight matrix packed once into the kernel's panel layout in a pool's shared memory: a derived
 * cache of some source of truth (a Parameter's tensor, checkpoint bytes), tagged with the source's
 * `version`. The packed bytes are freed by `free()`, never by the garbage collector.
 */
export class PackedWeight {
  private freed = false;

  /** @internal Use `packWeight`/`packTensorWeight`. */
  constructor(
    readonly pool: KernelPool,
    readonly dtype: PackedDtype,
    readonly inFeatures: number,
    readonly outFeatures: number,
    /** Byte offset of the panels in the pool's heap. */
    readonly offset: number,
    /** Byte offset of the int8 scales (`[panels × 16]` float32), 0 for other dtypes. */
    readonly scalesOffset: number,
    readonly version: number,
    readonly portable: tf.Tensor2D | undefined,
  ) {}

  /** Bytes of packed weights (and int8 scales) in the heap: what a product streams. */
  get bytes(): number {
    const padded = Math.ceil(this.outFeatures / PANEL_COLUMNS) * PANEL_COLUMNS;
    const scales = this.dtype === 'int8' ? padded * 4 : 0;
    return padded * this.inFeatures * PACKED_DTYPE_BYTES[this.dtype] + scales;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /**
   * The weights as float32 values, `[in, out]` (or `[out, in]` with `order: 'out-in'`): exact for
   * fp32, bf16 and fp16 (widening); for int8 `q · scale` rounded to float32.
   */
  values(order: WeightOrder = 'in-out'): Float32Array {
    if (this.freed) throw new KernelArgumentError('PackedWeight.values: the packed weight was freed');
    const { inFeatures, outFeatures } = this;
    const count = Math.ceil(outFeatures / PANEL_COLUMNS) * PANEL_COLUMNS * inFeatures;
    const buffer = this.pool.heap.memory.buffer;
    let packed: Float32Array;
    if (this.dtype === 'fp32') packed = new Float32Array(buffer, this.offset, count);
    else if (this.dtype === 'bf16') packed = bf16BitsToFloat32(new Uint16Array(buffer, this.offset, count));
    else if (this.dtype === 'fp16') packed = fp16BitsToFloat32(new Uint16Array(buffer, this.offset, count));
    else {
      const q = new Int8Array(buffer, this.offset, count);
      const scales = new Float32Array(buffer, this.scalesOffset, count / inFeatures);
      packed = Float32Array.from(
        q,
        (value, k) =>
          value * scales[Math.floor(k / (PANEL_COLUMNS * inFeatures)) * PANEL_COLUMNS + (k % PANEL_COLUMNS)]!,
      );
    }
    const shape = order === 'in-out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    const values = new Float32Array(inFeatures * outFeatures);
    unpackPanels(packed, values, weightLayout(shape, order, 'PackedWeight.values'));
    return values;
  }

  /**
   * Columns `ids` of W as rows: `[ids.length, in]` float32, the values `values()` gives (an embedding
   * table packed as a tied head's `[vocab, hidden]` weight: a token's embedding is its column).
   */
  columns(ids: ArrayLike<number>): Float32Array {
    if (this.freed) throw new KernelArgumentError('PackedWeight.columns: the packed weight was freed');
    const { inFeatures, outFeatures } = this;
    const buffer = this.pool.heap.memory.buffer;
    const result = new Float32Array(ids.length * inFeatures);
    for (let row = 0; row < ids.length; row++) {
      const id = ids[row]!;
      if (!Number.isInteger(id) || id < 0 || id >= outFeatures) {
        throw new KernelArgumentError(`PackedWeight.columns: id ${id} is not in [0, ${outFeatures})`);
      }
      // Column id sits in panel ⌊id/16⌋, at lane id mod 16 of each input's 16-weight run.
      const first = Math.floor(id / PANEL_COLUMNS) * PANEL_COLUMNS * inFeatures + (id % PANEL_COLUMNS);
      const indices = Array.from({ length: inFeatures }, (_, i) => first + i * PANEL_COLUMNS);
      result.set(this.elementsAt(buffer, indices, id), row * inFeatures);
    }
    return result;
  }

  /** Packed elements at `indices` (all of column `column`) as float32. */
  private elementsAt(buffer: ArrayBufferLike, indices: number[], column: number): Float32Array {
    if (this.dtype === 'fp32') {
      const packed = new Float32Array(buffer, this.offset);
      return Float32Array.from(indices, (k) => packed[k]!);
    }
    if (this.dtype === 'int8') {
      const packed = new Int8Array(buffer, this.offset);
      const scale = new Float32Array(buffer, this.scalesOffset, column + 1)[column]!;
      return Float32Array.from(indices, (k) => packed[k]! * scale);
    }
    const bits = new Uint16Array(buffer, this.offset);
    const picked = Uint16Array.from(indices, (k) => bits[k]!);
    return this.dtype === 'bf16' ? bf16BitsToFloat32(picked) : fp16BitsToFloat32(picked);
  }

  /** `free()`, under the name a `Parameter`'s derived layout is released by. */
  dispose(): void {
    this.free();
  }

  /** Gives the packed bytes back to the pool's heap. Idempotent; the handle is unusable afterwards. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.pool.heap.release(this.offset);
    if (this.scalesOffset !== 0) this.pool.heap.release(this.scalesOffset);
  }
}

/** Packs `raw` into `pool`'s heap (see PackOptions for conversions). */
export function packWeight(pool: KernelPool, raw: RawWeight, options: PackOptions = {}): PackedWeight {
  const dtype = options.dtype ?? raw.dtype;
  const layout = weightLayout(raw.shape, options.order ?? 'in-out', 'packWeight');
  if (raw.data.length !== layout.inFeatures * layout.outFeatures) {
    throw new KernelArgumentError(`packWeight: ${raw.data.length} values for a [${raw.shape}] weight`);
  }
  const panels = Math.ceil(layout.outFeatures / PANEL_COLUMNS);
  const heap = pool.heap;
  // int8: 16 bytes to spare, which the kernel reads (times zero) after an odd last input index.
  const spare = dtype === 'int8' ? 16 : 0;
  const offset = heap.allocate(
    panels * PANEL_COLUMNS * layout.inFeatures * PACKED_DTYPE_BYTES[dtype] + spare,
  );
  let scalesOffset = 0;
  const buffer = heap.memory.buffer;
  const count = panels * PANEL_COLUMNS * layout.inFeatures;
  if (dtype === 'int8') {
    const { q, scales } = quantizeInt8PerColumn(asFloat32(raw), layout);
    packPanels(q, new Int8Array(buffer, offset, count), layout);
    scalesOffset = heap.allocate(panels * PANEL_COLUMNS * 4);
    new Float32Array(buffer, scalesOffset, panels * PANEL_COLUMNS).fill(0).set(scales);
  } else if (dtype === 'fp32') {
    packPanels(asFloat32(raw), new Float32Array(buffer, offset, count), layout);
  } else if (dtype === raw.dtype) {
    packPanels(raw.data, new Uint16Array(buffer, offset, count), layout);
  } else {
    const round = dtype === 'bf16' ? float32ToBf16Bits : float32ToFp16Bits;
    packPanels(round(asFloat32(raw)), new Uint16Array(buffer, offset, count), layout);
  }
  const { inFeatures, outFeatures } = layout;
  return new PackedWeight(
    pool,
    dtype,
    inFeatures,
    outFeatures,
    offset,
    scalesOffset,
    options.version ?? 0,
    options.portable,
  );
}

/** A piece of rows of a checkpoint-shaped matrix, as a reader gives them. */
export type ReadRows = (firstRow: number, rowCount: number) => Promise<RawWeight>;

/** Bytes of source rows read at a time by `packWeightByRows`. */
const ROWS_READ_BYTES = 4 * 2 ** 20;

/**
 * Packs a `shape` weight (in `order`) read a few MiB of rows at a time by `readRows`, so that loading
 * never holds the whole source beside the packed copy. As `packWeight` for fp32, bf16 and fp16
 * (exact widening, or rounding to nearest even); int8 needs every row before its first (per-column
 * scales), so it packs with `packWeight`.
 */
export async function packWeightByRows(
  pool: KernelPool,
  shape: readonly number[],
  sourceDtype: RawWeight['dtype'],
  readRows: ReadRows,
  options: PackOptions & { dtype?: Exclude<PackedDtype, 'int8'> } = {},
): Promise<PackedWeight> {
  const dtype = options.dtype ?? sourceDtype;
  const layout = weightLayout(shape, options.order ?? 'in-out', 'packWeightByRows');
  const { inFeatures, outFeatures } = layout;
  const panels = Math.ceil(outFeatures / PANEL_COLUMNS);
  const count = panels * PANEL_COLUMNS * inFeatures;
  const offset = pool.heap.allocate(count * PACKED_DTYPE_BYTES[dtype]);
  const packed = () =>
    dtype === 'fp32'
      ? new Float32Array(pool.heap.memory.buffer, offset, count)
      : new Uint16Array(pool.heap.memory.buffer, offset, count);
  // The last panel's padding columns stay zero: clear that panel before the rows arrive.
  if (outFeatures % PANEL_COLUMNS !== 0) packed().fill(0, (panels - 1) * PANEL_COLUMNS * inFeatures);
  const [rows, columns] = shape as [number, number];
  const rowsPerRead = Math.max(1, Math.floor(ROWS_READ_BYTES / (columns * PACKED_DTYPE_BYTES.fp32)));
  try {
    for (let first = 0; first < rows; first += rowsPerRead) {
      const piece = await readRows(first, Math.min(rowsPerRead, rows - first));
      const values = inDtype(piece, dtype);
      const target = packed(); // a new view: the heap may have grown while reading
      const inOut = layout.outStride === 1;
      for (let r = 0; r < values.length / columns; r++) {
        for (let c = 0; c < columns; c++) {
          const [i, o] = inOut ? [first + r, c] : [c, first + r];
          target[
            Math.floor(o / PANEL_COLUMNS) * PANEL_COLUMNS * inFeatures +
              i * PANEL_COLUMNS +
              (o % PANEL_COLUMNS)
          ] = values[r * columns + c]!;
        }
      }
    }
  } catch (error) {
    pool.heap.release(offset);
    throw error;
  }
  return new PackedWeight(
    pool,
    dtype,
    inFeatures,
    outFeatures,
    offset,
    0,
    options.version ?? 0,
    options.portable,
  );
}

/** `raw`'s elements as `dtype` holds them: float32 values or 16-bit patterns. */
function inDtype(raw: RawWeight, dtype: Exclude<PackedDtype, 'int8'>): Float32Array | Uint16Array {
  if (raw.dtype === dtype) return raw.data;
  if (dtype === 'fp32') return asFloat32(raw);
  return (dtype === 'bf16' ? float32ToBf16Bits : float32ToFp16Bits)(asFloat32(raw));
}

/**
 * Packs a float32 tensor: `[in, out]`, or `[out, in]` with `order: 'out-in'` (read with `await data()`).
 * The tensor also serves backends the kernel does not, unless `portable` names another (it must then
 * be `[in, out]`; a tensor given here in `out-in` order cannot serve and is not kept).
 */
export async function packTensorWeight(
  pool: KernelPool,
  tensor: tf.Tensor2D,
  options: PackOptions = {},
): Promise<PackedWeight> {
  const data = (await tensor.data()) as Float32Array;
  const portable = options.portable ?? ((options.order ?? 'in-out') === 'in-out' ? tensor : undefined);
  return packWeight(pool, { dtype: 'fp32', data, shape: tensor.shape }, { ...options, portable });
}

/** The source as float32 values (exact for every source dtype). */
function asFloat32(raw: RawWeight): Float32Array {
  if (raw.dtype === 'fp32') return raw.data;
  return raw.dtype === 'bf16' ? bf16BitsToFloat32(raw.data) : fp16BitsToFloat32(raw.data);
}

type Elements = Float32Array | Uint16Array | Int8Array;

/** The inverse of `packPanels`: the panels' values back into `layout` (padding columns dropped). */
function unpackPanels(packed: Float32Array, target: Float32Array, layout: WeightLayout): void {
  const { inFeatures, outFeatures, inStride, outStride } = layout;
  let at = 0;
  for (let column = 0; column < outFeatures; column += PANEL_COLUMNS) {
    const width = Math.min(PANEL_COLUMNS, outFeatures - column);
    for (let i = 0; i < inFeatures; i++) {
      const rowStart = i * inStride + column * outStride;
      for (let j = 0; j < width; j++) target[rowStart + j * outStride] = packed[at + j]!;
      at += PANEL_COLUMNS;
    }
  }
}

/**
 * The panel layout: panel p holds, for each input i, W[i, 16p .. 16p+15] side by side (zeros past
 * the last column). Written in packed order, so the destination is filled front to back.
 */
function packPanels<T extends Elements>(source: T, packed: T, layout: WeightLayout): void {
  const { inFeatures, outFeatures, inStride, outStride } = layout;
  let at = 0;
  for (let column = 0; column < outFeatures; column += PANEL_COLUMNS) {
    const width = Math.min(PANEL_COLUMNS, outFeatures - column);
    for (let i = 0; i < inFeatures; i++) {
      const rowStart = i * inStride + column * outStride;
      for (let j = 0; j < width; j++) packed[at + j] = source[rowStart + j * outStride]!;
      packed.fill(0, at + width, at + PANEL_COLUMNS);
      at += PANEL_COLUMNS;
    }
  }
}
