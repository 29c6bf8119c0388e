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
  return productOnPool('skinnyMatmul', weight, x, rows, bias, threads);
}

/**
 * The module's products on a packed weight, each with the same arguments: the skinny matmul (few
 * rows, assembly/skinny-matmul.ts) or the GEMM (many rows, assembly/gemm.ts; float weights only:
 * int8 weights always take the skinny matmul's integer kernel).
 */
export type PoolProduct = 'skinnyMatmul' | 'gemm';

/** `skinnyMatmul`'s work for either product: checks, scratch copies, the run on the pool. */
export function productOnPool(
  product: PoolProduct,
  weight: PackedWeight,
  x: Float32Array,
  rows: number,
  bias?: Float32Array,
  threads?: number,
): Float32Array {
  const { inFeatures, outFeatures } = weight;
  if (weight.isFreed) throw new KernelArgumentError(`${product}: the packed weight was freed`);
  if (!Number.isInteger(rows) || rows < 1 || x.length !== rows * inFeatures) {
    throw new KernelArgumentError(`${product}: x has ${x.length} values, not ${rows} rows of ${inFeatures}`);
  }
  if (bias && bias.length !== outFeatures) {
    throw new KernelArgumentError(
      `${product}: bias has ${bias.length} values, the weight ${outFeatures} outputs`,
    );
  }
  const pool = weight.pool;
  // int8 weights run the skinny matmul's integer kernel whichever product is asked for: it serves
  // every row count (there is no int8 GEMM), and its inputs are x quantized per row to int16.
  const int8 = weight.dtype === 'int8';
  const onGemm = product === 'gemm' && !int8;
  // Scratch: x | the GEMM's interleaved x [row tiles of 4, in, 4] | bias [out padded to whole panels:
  // the kernel reads 16 at a time] | y [rows, out]. x is [rows, in] float32, or for int8 weights int16
  // [rows, in rounded up to even] + a scale per row.
  const xqStride = inFeatures + (inFeatures & 1);
  const xBytes = int8 ? lineBytes((rows * xqStride) / 2 + rows) : lineBytes(rows * inFeatures);
  const interleavedBytes = onGemm ? lineBytes(Math.ceil(rows / 4) * 4 * inFeatures) : 0;
  const biasBytes = bias ? lineBytes(Math.ceil(outFeatures / PANEL_COLUMNS) * PANEL_COLUMNS) : 0;
  const scratch = pool.scratch(xBytes + interleavedBytes + biasBytes + lineBytes(rows * outFeatures));
  const buffer = pool.heap.memory.buffer;
  if (int8) {
    const xq = new Int16Array(buffer, scratch, rows * xqStride);
    quantizeRowsInt16(x, rows, inFeatures, xq, new Float32Array(buffer, scratch + xq.byteLength, rows));
  } else {
    new Float32Array(buffer, scratch, x.length).set(x);
  }
  const interleaved = scratch + xBytes;
  if (onGemm) pool.callOnCaller('interleaveRows', scratch, rows, inFeatures, interleaved);
  const biasAt = interleaved + interleavedBytes;
  if (bias) new Float32Array(buffer, biasAt, bias.length).set(bias);
  const y = biasAt + biasBytes;
  pool.run(
    PACKED_DTYPES.indexOf(weight.dtype) + (onGemm ? PACKED_DTYPES.length : 0),
    {
      x: onGemm ? interleaved : scratch,
      rows,
      inFeatures,
      weight: weight.offset,
      scales: weight.scalesOffset,
      bias: bias ? biasAt : 0,
      y,
      outFeatures,
    },
    threads ?? threadsForProduct(weight.bytes, rows, pool.threads),
  );
  return new Float32Array(pool.heap.memory.buffer, y, rows * outFeatures).slice();
}
