import { SeededRandom } from '@tsformer/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeRowsInt16 } from './int8-quantize.js';
import { KernelPool } from './kernel-pool.js';
import { type PackedWeight, packWeight, type RawWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';
import { bf16BitsToFloat32, float32ToBf16Bits, fp16BitsToFloat32 } from './weight-dtypes.js';

/**
 * [rows, in, out]: sizes not divisible by 4, 8 or 16 (and some that are), 1 row, odd rows, many rows
 * (prefill: more than one 32-row block, and a last block with an odd row).
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 37, 5],
  [1, 129, 33],
  [2, 64, 16],
  [2, 67, 17],
  [3, 100, 47],
  [5, 13, 130],
  [8, 255, 31],
  [13, 40, 23],
  [32, 19, 70],
  [67, 33, 21],
  [1, 601, 19],
  [3, 770, 40],
];

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

/**
 * Reference y = x · W + b in float64 from the exact weight values, with the bound float32 arithmetic
 * in any summation order obeys: |ŷ − y| ≤ γ_{n+1} · (Σ_i |x_i·W_io| + |b_o|), γ_k = k·u / (1 − k·u)
 * (n products and sums, one bias add; Higham, Accuracy and Stability, §3.1). An int8 product sums
 * exact integers in blocks of 256 indices: one rounding per block, one per block added, two scales
 * and the bias: γ_{2·blocks+3}, on its dequantized inputs and weights.
 */
function reference(
  x: Float32Array | Float64Array,
  rows: number,
  w: Float64Array,
  inF: number,
  outF: number,
  bias: Float32Array | undefined,
  roundings: number,
) {
  const y = new Float64Array(rows * outF);
  const bound = new Float64Array(rows * outF);
  const gamma = (roundings * U) / (1 - roundings * U);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = bias ? bias[o]! : 0;
      let magnitude = bias ? Math.abs(bias[o]!) : 0;
      for (let i = 0; i < inF; i++) {
        const product = x[r * inF + i]! * w[i * outF + o]!;
        sum += product;
        magnitude += Math.abs(product);
      }
      y[r * outF + o] = sum;
      bound[r * outF + o] = gamma * magnitude;
    }
  }
  return { y, bound };
}

function expectWithin(
  actual: Float32Array,
  expected: { y: Float64Array; bound: Float64Array },
  label: string,
): void {
  let worst = 0;
  for (let k = 0; k < actual.length; k++) {
    const excess = Math.abs(actual[k]! - expected.y[k]!) / (expected.bound[k]! || Number.MIN_VALUE);
    if (!(excess <= 1))
      throw new Error(
        `${label}: element ${k} is ${actual[k]}, expected ${expected.y[k]} ± ${expected.bound[k]}`,
      );
    worst = Math.max(worst, excess);
  }
  expect(worst).toBeLessThanOrEqual(1);
}

/** fp16 bit patterns over a wide range: normals with exponents 2^-14 .. 2^5, some subnormals, both signs. */
function randomFp16Bits(random: SeededRandom, count: number): Uint16Array {
  const bits = new Uint16Array(count);
  for (let k = 0; k < count; k++) {
    const sign = random.nextUint32() & 0x8000;
    const exponent = k % 11 === 0 ? 0 : 1 + (random.nextUint32() % 20);
    bits[k] = sign | (exponent << 10) | (random.nextUint32() & 0x3ff);
  }
  return bits;
}

/** `[in, out]` values of a weight stored `[out, in]`. */
function toInOut(values: Float32Array, inF: number, outF: number): Float32Array {
  const out = new Float32Array(inF * outF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) out[i * outF + o] = values[o * inF + i]!;
  return out;
}

describe.each([
  [1, false],
  [2, false],
  [1, true],
  [2, true],
])('skinnyMatmul on %i thread(s), relaxed SIMD %s', (threads, relaxedSimd) => {
  let pool: KernelPool;
  beforeAll(async () => {
    // One panel per chunk: small products still split across the threads.
    pool = await KernelPool.create({ threads, chunkWork: 1, relaxedSimd });
  });
  afterAll(async () => {
    await pool.terminate();
  });

  for (const [rows, inF, outF] of SHAPES) {
    it(`[${rows}, ${inF}] · [${inF}, ${outF}] in fp32, bf16, fp16 and int8 against float64`, () => {
      const random = new SeededRandom(rows * 1000 + inF * 10 + outF);
      const x = random.normalArray(rows * inF);
      const bias = outF % 2 === 1 ? random.normalArray(outF) : undefined;
      const fp32 = random.normalArray(inF * outF, 0.5);
      const bf16 = float32ToBf16Bits(random.normalArray(inF * outF, 0.5));
      const fp16 = randomFp16Bits(random, inF * outF);
      const sources: [RawWeight, Float32Array][] = [
        [{ dtype: 'fp32', data: fp32, shape: [inF, outF] }, fp32],
        [{ dtype: 'bf16', data: bf16, shape: [inF, outF] }, bf16BitsToFloat32(bf16)],
        [{ dtype: 'fp16', data: fp16, shape: [inF, outF] }, fp16BitsToFloat32(fp16)],
      ];
      for (const [raw, values] of sources) {
        const packed = packWeight(pool, raw);
        const y = skinnyMatmul(packed, x, rows, bias);
        expectWithin(y, reference(x, rows, Float64Array.from(values), inF, outF, bias, inF + 1), raw.dtype);
        // Widened exactly in the kernel: the same sums as fp32 weights of the same values, bit for bit
        // (bf16's lone row, an odd last one, sums even and odd indices apart where fp32's sums in
        // order: checked against float64 above, its widening by the 16-bit patterns test).
        const widened = packWeight(pool, { dtype: 'fp32', data: values, shape: [inF, outF] });
        if (raw.dtype !== 'bf16' || rows % 2 === 0) expect(skinnyMatmul(widened, x, rows, bias)).toEqual(y);
        packed.free();
        widened.free();
      }
      const int8 = packWeight(pool, sources[0]![0], { dtype: 'int8' });
      const dequantized = dequantize(int8);
      const blocks = Math.ceil(inF / 256);
      expectWithin(
        skinnyMatmul(int8, x, rows, bias),
        reference(quantizedInputs(x, rows, inF), rows, dequantized, inF, outF, bias, 2 * blocks + 3),
        'int8',
      );
      // Integer sums: each row's outputs do not depend on the rows beside it (the row tile).
      const int8Product = skinnyMatmul(int8, x, rows, bias);
      for (let r = 0; r < rows; r++) {
        const alone = skinnyMatmul(int8, x.subarray(r * inF, (r + 1) * inF), 1, bias);
        expect(int8Product.subarray(r * outF, (r + 1) * outF)).toEqual(alone);
      }
      // Per-column symmetric quantization: each weight within half a step of its original.
      const scales = new Float32Array(pool.heap.memory.buffer, int8.scalesOffset, outF);
      for (let k = 0; k < fp32.length; k++) {
        expect(Math.abs(dequantized[k]! - fp32[k]!)).toBeLessThanOrEqual(scales[k % outF]! * 0.5000001);
      }
      int8.free();
    });
  }

  it('reads nn.Linear [out, in] weights as their transpose', () => {
    const [rows, inF, outF] = [3, 21, 35];
    const random = new SeededRandom(7);
    const x = random.normalArray(rows * inF);
    const outIn = random.normalArray(outF * inF);
    const bf16 = float32ToBf16Bits(outIn);
    const inOut = toInOut(bf16BitsToFloat32(bf16), inF, outF);
    const transposed = packWeight(
      pool,
      { dtype: 'bf16', data: bf16, shape: [outF, inF] },
      { order: 'out-in' },
    );
    // The same bf16 values packed from [in, out] (exact: they are bf16 already).
    const direct = packWeight(pool, { dtype: 'bf16', data: float32ToBf16Bits(inOut), shape: [inF, outF] });
    expect(skinnyMatmul(transposed, x, rows)).toEqual(skinnyMatmul(direct, x, rows));
    transposed.free();
    direct.free();
  });

  // Widening and storing are the same code in both builds (each output is 1 · w, one rounding either
  // way): checked once, on the baseline build, to keep the suite short.
  it.skipIf(relaxedSimd)(
    'widens every 16-bit pattern in the kernel exactly (fp16 infinities, NaN, subnormals; bf16)',
    () => {
      // x = [1] on 1 and 2 rows: each output is 1 · w + 0, the widened weight itself (-0 becomes +0).
      const every = Uint16Array.from({ length: 65536 }, (_, k) => k);
      for (const [dtype, widen] of [
        ['fp16', fp16BitsToFloat32],
        ['bf16', bf16BitsToFloat32],
      ] as const) {
        const packed = packWeight(pool, { dtype, data: every, shape: [1, 65536] });
        const expected = widen(every).map((w) => w + 0);
        for (const rows of [1, 2, 4]) {
          const y = skinnyMatmul(packed, new Float32Array(rows).fill(1), rows);
          for (let r = 0; r < rows; r++) expect(y.subarray(r * 65536, (r + 1) * 65536)).toEqual(expected);
        }
        packed.free();
      }
    },
  );

  it('sums int8 products at the int16 and int8 extremes without overflowing', () => {
    // Every weight 0.5 (q = 127) and every input 1 (xq = 32767): 2049 products of 127 · 32767 sum to
    // 8.5e9, past int32, in one output; the kernel sums blocks of 256 exactly, then in float32.
    const inF = 2049;
    const weight = packWeight(
      pool,
      { dtype: 'fp32', data: new Float32Array(inF * 3).fill(0.5), shape: [inF, 3] },
      { dtype: 'int8' },
    );
    for (const rows of [1, 2]) {
      const y = skinnyMatmul(weight, new Float32Array(rows * inF).fill(1), rows);
      for (const value of y) expect(Math.abs(value - 1024.5) / 1024.5).toBeLessThan(1e-6);
    }
    weight.free();
  });

  it('gives every packed byte back to the heap', () => {
    const before = pool.heap.allocatedBytes;
    const packed = [1, 2, 3].map((k) =>
      packWeight(
        pool,
        { dtype: 'fp32', data: new Float32Array(k * 100), shape: [k * 10, 10] },
        { dtype: 'int8' },
      ),
    );
    for (const weight of packed) weight.free();
    expect(pool.heap.allocatedBytes).toBe(before);
  });
});

/**
 * x as the int8 kernel takes it, xq · scale in float64, after checking `quantizeRowsInt16`'s
 * promises: scale = max |x| / 32767 per row, |xq| ≤ 32767, each value within half a step, a 0 after
 * an odd row.
 */
function quantizedInputs(x: Float32Array, rows: number, inF: number): Float64Array {
  const stride = inF + (inF % 2);
  const xq = new Int16Array(rows * stride).fill(99);
  const scales = new Float32Array(rows);
  quantizeRowsInt16(x, rows, inF, xq, scales);
  const values = new Float64Array(rows * inF);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * inF, (r + 1) * inF);
    expect(scales[r]).toBe(Math.fround(Math.max(...row.map(Math.abs)) / 32767));
    if (stride > inF) expect(xq[r * stride + inF]).toBe(0);
    for (let i = 0; i < inF; i++) {
      const q = xq[r * stride + i]!;
      expect(Math.abs(q)).toBeLessThanOrEqual(32767);
      values[r * inF + i] = q * scales[r]!;
      expect(Math.abs(values[r * inF + i]! - row[i]!)).toBeLessThanOrEqual(scales[r]! * 0.5000001);
    }
  }
  return values;
}

/** The int8 weight's values, q · scale, `[in, out]` in float64. */
function dequantize(weight: PackedWeight): Float64Array {
  const { inFeatures, outFeatures } = weight;
  const buffer = weight.pool.heap.memory.buffer;
  const q = new Int8Array(buffer, weight.offset, weight.bytes);
  const scales = new Float32Array(buffer, weight.scalesOffset, outFeatures);
  const values = new Float64Array(inFeatures * outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    const panel = Math.floor(o / 16);
    for (let i = 0; i < inFeatures; i++) {
      values[i * outFeatures + o] = q[(panel * inFeatures + i) * 16 + (o % 16)]! * scales[o]!;
    }
  }
  return values;
}
