import { KernelArgumentError } from './errors.js';
import { quantizeRowsInt16 } from './int8-quantize.js';
import type { PackedWeight } from './packed-weight.js';
import { threadsForProduct } from './thread-choice.js';
import { PACKED_DTYPES, PANEL_COLUMNS } from './weight-dtypes.js';

/** Bytes of `values` float32 rounded up to whole cache lines (blocks in the scratch stay aligned). */
function lineBytes(values: number): number {
  return Math.ceil((values * 4) / 64) * 64;
}

/**
 * y = x · W + bias on the pool of `weight`: `x` is `[rows, in]` row-major, the result `[rows, out]`.
 * Copies x (and bias) into the pool's scratch (for int8 weights x quantized per row to int16:
 * `quantizeRowsInt16`), runs the kernel on `threads` threads (default: as
 * many of the pool's as the product's size pays for, `threadsForProduct`), copies y out.
 * Synchronous: the calling thread takes part and waits for the others.
 */
export function skinnyMatmul(
  weight: PackedWeight,
  x: Float32Array,
  rows: number,
  bias?: Float32Array,
  threads?: number,
): Float32Array {
  const { inFeatures, outFeatures } = weight;
  if (weight.isFreed) throw new KernelArgumentError('skinnyMatmul: the packed weight was freed');
  if (!Number.isInteger(rows) || rows < 1 || x.length !== rows * inFeatures) {
    throw new KernelArgumentError(
      `skinnyMatmul: x has ${x.length} values, not ${rows} rows of ${inFeatures}`,
    );
  }
  if (bias && bias.length !== outFeatures) {
    throw new KernelArgumentError(
      `skinnyMatmul: bias has ${bias.length} values, the weight ${outFeatures} outputs`,
    );
  }
  const pool = weight.pool;
  // Scratch: x | bias [out padded to whole panels: the kernel reads 16 at a time] | y [rows, out].
  // x is [rows, in] float32, or for int8 weights int16 [rows, in rounded up to even] + a scale per row.
  const int8 = weight.dtype === 'int8';
  const xqStride = inFeatures + (inFeatures & 1);
  const xBytes = int8 ? lineBytes((rows * xqStride) / 2 + rows) : lineBytes(rows * inFeatures);
  const biasBytes = bias ? lineBytes(Math.ceil(outFeatures / PANEL_COLUMNS) * PANEL_COLUMNS) : 0;
  const scratch = pool.scratch(xBytes + biasBytes + lineBytes(rows * outFeatures));
  const buffer = pool.heap.memory.buffer;
  if (int8) {
    const xq = new Int16Array(buffer, scratch, rows * xqStride);
    quantizeRowsInt16(x, rows, inFeatures, xq, new Float32Array(buffer, scratch + xq.byteLength, rows));
  } else {
    new Float32Array(buffer, scratch, x.length).set(x);
  }
  if (bias) new Float32Array(buffer, scratch + xBytes, bias.length).set(bias);
  const y = scratch + xBytes + biasBytes;
  pool.run(
    PACKED_DTYPES.indexOf(weight.dtype),
    {
      x: scratch,
      rows,
      inFeatures,
      weight: weight.offset,
      scales: weight.scalesOffset,
      bias: bias ? scratch + xBytes : 0,
      y,
      outFeatures,
    },
    threads ?? threadsForProduct(weight.bytes, rows, pool.threads),
  );
  return new Float32Array(pool.heap.memory.buffer, y, rows * outFeatures).slice();
}
