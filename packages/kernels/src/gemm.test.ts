import { SeededRandom } from '@tsformer/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemm } from './gemm.js';
import { KernelPool } from './kernel-pool.js';
import { GEMM_MIN_ROWS, packedMatmul } from './packed-matmul.js';
import { packWeight, type RawWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';
import { type Madd32, madd32, maddIsFused } from './testing/madd-reference.js';
import {
  bf16BitsToFloat32,
  float32ToBf16Bits,
  float32ToFp16Bits,
  fp16BitsToFloat32,
  PACKED_DTYPES,
} from './weight-dtypes.js';

/**
 * [rows, in, out]: the row counts (2, 3, 5, 17, 33, 128: partial 4-row tiles, more than one
 * 32-row block), sizes not divisible by 4, 8 or 16 (a last half panel of 1–7 columns, an input count
 * that leaves a remainder after the 4-wide interleave), and a few that divide evenly.
 */
const SHAPES: [number, number, number][] = [
  [2, 37, 5],
  [3, 19, 33],
  [5, 64, 16],
  [17, 13, 130],
  [33, 67, 23],
  [128, 21, 47],
  [8, 1, 9],
];

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

/** What the GEMM promises for each output, computed here: the float32 sum in index order, and float64. */
interface Expected {
  /**
   * Σ_i x·w in float32 in index order, i = 0, 1, … (+ bias), by the build's multiply-add: a rounding
   * per product and per add (baseline), or one per fused multiply-add (relaxed SIMD with FMA).
   */
  float32InOrder: Float32Array;
  /** The exact value in float64 and γ_{n+1}·(Σ|x·w| + |b|), the float32 error bound (Higham §3.1). */
  float64: Float64Array;
  bound: Float64Array;
}

/**
 * y = x · W (+ b) from W's float32 values `[in, out]`, the float32 sums by `madd` (exact reproductions
 * of float32 arithmetic).
 */
function expectedProduct(
  x: Float32Array,
  rows: number,
  w: Float32Array,
  inF: number,
  outF: number,
  bias: Float32Array | undefined,
  madd: Madd32,
): Expected {
  const float32InOrder = new Float32Array(rows * outF);
  const float64 = new Float64Array(rows * outF);
  const bound = new Float64Array(rows * outF);
  const gamma = ((inF + 1) * U) / (1 - (inF + 1) * U);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let single = 0;
      let exact = 0;
      let magnitude = 0;
      for (let i = 0; i < inF; i++) {
        const product = x[r * inF + i]! * w[i * outF + o]!;
        single = madd(single, x[r * inF + i]!, w[i * outF + o]!);
        exact += product;
        magnitude += Math.abs(product);
      }
      const b = bias ? bias[o]! : 0;
      float32InOrder[r * outF + o] = bias ? Math.fround(single + b) : single;
      float64[r * outF + o] = exact + b;
      bound[r * outF + o] = gamma * (magnitude + Math.abs(b));
    }
  }
  return { float32InOrder, float64, bound };
}

function expectMatches(y: Float32Array, expected: Expected, label: string): void {
  for (let k = 0; k < y.length; k++) {
    if (Math.abs(y[k]! - expected.float64[k]!) > expected.bound[k]!) {
      expect.fail(`${label}: element ${k} is ${y[k]}, float64 ${expected.float64[k]} ± ${expected.bound[k]}`);
    }
  }
  expect(y).toEqual(expected.float32InOrder);
}

describe.each([
  [1, false],
  [2, false],
  [1, true],
  [2, true],
])('gemm on %i thread(s), relaxed SIMD %s', (threads, relaxedSimd) => {
  let pool: KernelPool;
  /** The build's multiply-add: fused in the relaxed-SIMD build where the processor has an FMA. */
  let madd: Madd32;
  beforeAll(async () => {
    // One panel per chunk: the GEMM's panels are claimed in chunks across both threads even here.
    pool = await KernelPool.create({ threads, chunkWork: 1, relaxedSimd });
    madd = madd32(maddIsFused(pool));
  });
  afterAll(async () => {
    await pool.terminate();
  });

  for (const [rows, inF, outF] of SHAPES) {
    it(`[${rows}, ${inF}] · [${inF}, ${outF}] in every weight dtype against float64 and the in-order float32 sum`, () => {
      const random = new SeededRandom(rows * 1000 + inF * 10 + outF);
      const x = random.normalArray(rows * inF);
      const bias = outF % 2 === 1 ? random.normalArray(outF) : undefined;
      const values = random.normalArray(inF * outF, 0.5);
      const sources: Record<(typeof PACKED_DTYPES)[number], RawWeight> = {
        fp32: { dtype: 'fp32', data: values, shape: [inF, outF] },
        bf16: { dtype: 'bf16', data: float32ToBf16Bits(values), shape: [inF, outF] },
        fp16: { dtype: 'fp16', data: float32ToFp16Bits(values), shape: [inF, outF] },
        int8: { dtype: 'fp32', data: values, shape: [inF, outF] },
      };
      for (const dtype of PACKED_DTYPES) {
        const packed = packWeight(pool, sources[dtype], { dtype });
        const y = gemm(packed, x, rows, bias, threads);
        if (dtype === 'int8') {
          // No int8 GEMM: the skinny matmul's integer kernel (tested in skinny-matmul.test.ts) serves.
          expect(y).toEqual(skinnyMatmul(packed, x, rows, bias, threads));
        } else {
          expectMatches(y, expectedProduct(x, rows, packed.values(), inF, outF, bias, madd), dtype);
        }
        packed.free();
      }
    });
  }

  it("computes each row as it would alone: rows do not influence each other's results", () => {
    const [rows, inF, outF] = [33, 45, 29];
    const random = new SeededRandom(3);
    const x = random.normalArray(rows * inF);
    const bias = random.normalArray(outF);
    const values = random.normalArray(inF * outF);
    for (const [dtype, data] of [
      ['fp32', values],
      ['fp16', float32ToFp16Bits(values)],
    ] as const) {
      const packed = packWeight(pool, { dtype, data, shape: [inF, outF] });
      const all = gemm(packed, x, rows, bias, threads);
      for (const r of [0, 5, 31, 32]) {
        const row = x.subarray(r * inF, (r + 1) * inF);
        const alone = gemm(packed, row, 1, bias, threads);
        expect(all.subarray(r * outF, (r + 1) * outF)).toEqual(alone);
        // A decode step's one row runs on the skinny matmul: the same index-order sums, bit for bit
        // (fp32 and fp16; bf16's lone row sums even and odd indices apart).
        expect(packedMatmul(packed, row, 1, bias, threads)).toEqual(alone);
      }
      packed.free();
    }
  });

  // Widening and storing are the same code in both builds (each output is 1 · w, one rounding either
  // way): checked once, on the baseline build, to keep the suite short.
  it.skipIf(relaxedSimd)(
    'widens every 16-bit pattern exactly and stores the columns in order (fp16 infinities, NaN, subnormals; bf16)',
    () => {
      // x = [1] on 8 and 9 rows (a partial last tile): each output is 1 · w + 0, the widened weight
      // itself (-0 becomes +0), in its own column although the kernel sums even and odd columns apart.
      const every = Uint16Array.from({ length: 65536 }, (_, k) => k);
      for (const [dtype, widen] of [
        ['fp16', fp16BitsToFloat32],
        ['bf16', bf16BitsToFloat32],
      ] as const) {
        const packed = packWeight(pool, { dtype, data: every, shape: [1, 65536] });
        const expected = widen(every).map((w) => w + 0);
        for (const rows of [8, 9]) {
          const y = gemm(packed, new Float32Array(rows).fill(1), rows, undefined, threads);
          for (let r = 0; r < rows; r++) expect(y.subarray(r * 65536, (r + 1) * 65536)).toEqual(expected);
        }
        packed.free();
      }
    },
  );

  it('packedMatmul takes the GEMM from GEMM_MIN_ROWS rows and the skinny matmul below', () => {
    const [inF, outF] = [24, 40];
    const random = new SeededRandom(11);
    const packed = packWeight(pool, {
      dtype: 'fp32',
      data: random.normalArray(inF * outF),
      shape: [inF, outF],
    });
    for (const rows of [GEMM_MIN_ROWS - 1, GEMM_MIN_ROWS]) {
      const x = random.normalArray(rows * inF);
      const chosen = rows >= GEMM_MIN_ROWS ? gemm : skinnyMatmul;
      expect(packedMatmul(packed, x, rows, undefined, threads)).toEqual(
        chosen(packed, x, rows, undefined, threads),
      );
    }
    packed.free();
  });

  it('refuses x of the wrong size and a freed weight, naming the GEMM', () => {
    const packed = packWeight(pool, { dtype: 'fp32', data: new Float32Array(12), shape: [3, 4] });
    expect(() => gemm(packed, new Float32Array(7), 2)).toThrow('gemm: x has 7 values, not 2 rows of 3');
    packed.free();
    expect(() => gemm(packed, new Float32Array(6), 2)).toThrow('gemm: the packed weight was freed');
  });
});
