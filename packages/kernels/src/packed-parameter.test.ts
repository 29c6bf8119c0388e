import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend, weightsFromTensors } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableCpuKernels, enableCpuKernels } from './cpu-linear.js';
import { embedding } from './embedding.js';
import type { KernelPool } from './kernel-pool.js';
import { linear } from './linear.js';
import { packedWeightLoader } from './packed-loading.js';
import { PACKED_LAYOUT_KEY, type PackedParameterLayout } from './packed-parameter.js';
import { packWeight, packWeightByRows, type RawWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';
import { bf16BitsToFloat32, float32ToBf16Bits, PACKED_DTYPES } from './weight-dtypes.js';

let pool: KernelPool;

beforeAll(async () => {
  await useBackend('wasm');
  pool = await enableCpuKernels({ threads: 2 });
});
afterAll(() => disableCpuKernels());

describe('PackedWeight.values and columns', () => {
  const [inF, outF] = [7, 37]; // 3 panels, the last one partial
  const w = new SeededRandom(11).normalArray(inF * outF); // [in, out]

  it.each(PACKED_DTYPES)(
    'give back the %s values the kernel multiplies by, in either order, any column',
    (dtype) => {
      const packed = packWeight(pool, { dtype: 'fp32', data: w, shape: [inF, outF] }, { dtype });
      const inOut = packed.values('in-out');
      if (dtype === 'fp32') expect(inOut).toEqual(w);
      if (dtype === 'bf16') expect(inOut).toEqual(bf16BitsToFloat32(float32ToBf16Bits(w)));
      // x = e_i selects row i of what the kernel holds. int8: scale · q, and x = 1 quantized to
      // 32767 · (1/32767 rounded): a few roundings of float32.
      for (let i = 0; i < inF; i++) {
        const x = Float32Array.from({ length: inF }, (_, k) => (k === i ? 1 : 0));
        const row = inOut.subarray(i * outF, (i + 1) * outF);
        const y = skinnyMatmul(packed, x, 1);
        if (dtype !== 'int8') expect(y).toEqual(row);
        else
          for (const [o, value] of y.entries())
            expect(Math.abs(value - row[o]!)).toBeLessThanOrEqual(2 ** -21 * Math.abs(row[o]!));
      }
      const outIn = packed.values('out-in');
      for (const o of [0, 15, 16, 36]) {
        const column = Float32Array.from({ length: inF }, (_, i) => inOut[i * outF + o]!);
        expect(outIn.subarray(o * inF, (o + 1) * inF)).toEqual(column);
        expect(packed.columns([o, o])).toEqual(Float32Array.from([...column, ...column]));
      }
      expect(() => packed.columns([outF])).toThrow(/id 37 is not in \[0, 37\)/);
      packed.free();
    },
  );
});

describe('packedWeightLoader', () => {
  const [vocab, hidden, out] = [21, 9, 5];
  const random = new SeededRandom(5);
  const tableValues = random.normalArray(vocab * hidden); // [vocab, hidden]
  const headValues = random.normalArray(out * hidden); // [out, hidden]

  it('loads bf16 weights 16-bit and holds no tensor; linear and embedding read the packed copy; tensor restores it', async () => {
    await expectNoLeak(async () => {
      const table = new Parameter([vocab, hidden], { transposed: true }); // a tied table: head and lookup
      const head = new Parameter([out, hidden], { transposed: true });
      const checkpoint = {
        table: tf.tensor2d(bf16BitsToFloat32(float32ToBf16Bits(tableValues)), [vocab, hidden]),
        head: tf.tensor2d(headValues, [out, hidden]),
      };
      const bf16Table = float32ToBf16Bits(tableValues);
      // A source with stored elements, as a safetensors reader has: the table is BF16, the head F32.
      const source = {
        ...weightsFromTensors(checkpoint),
        dtype: (name: string) => (name === 'table' ? 'BF16' : 'F32'),
        readRaw: async (name: string) =>
          name === 'table'
            ? { dtype: 'BF16', shape: [vocab, hidden], data: bf16Table }
            : { dtype: 'F32', shape: [out, hidden], data: headValues },
      };
      const load = packedWeightLoader(
        pool,
        new Map([
          [table, 'out-in'],
          [head, 'out-in'],
        ] as const),
      );
      expect(await load(table, 'table', source)).toBe(true);
      expect(await load(head, 'head', source)).toBe(true);
      expect(await load(new Parameter([1]), 'other', source)).toBe(false);
      expect([table.hasTensor, head.hasTensor]).toEqual([false, false]);
      const packedTable = table.derived<PackedParameterLayout>(PACKED_LAYOUT_KEY, () => expect.fail()).packed;
      expect([packedTable.dtype, packedTable.bytes]).toEqual(['bf16', 32 * hidden * 2]);

      const ids = tf.tensor2d([[3, 0, 20]], undefined, 'int32');
      const looked = embedding(ids, table); // [1, 3, hidden]
      const logits = linear(looked, table); // tied head: [1, 3, vocab]
      const projected = linear(looked, head); // [1, 3, out]
      expect([table.hasTensor, head.hasTensor]).toEqual([false, false]);
      disableCpuKernels(); // the portable ops read `tensor`: restored from the packed copies
      const expected = [embedding(ids, table), linear(looked, table), linear(looked, head)];
      expect([table.hasTensor, head.hasTensor]).toEqual([true, true]);
      expect(await looked.data()).toEqual(await expected[0]!.data());
      for (const [got, want] of [
        [logits, expected[1]!],
        [projected, expected[2]!],
      ] as const) {
        const [a, b] = [await got.data(), await want.data()];
        for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5);
      }
      await enableCpuKernels({ threads: 2 });
      tf.dispose([ids, looked, logits, projected, ...expected, ...Object.values(checkpoint)]);
      table.dispose();
      head.dispose();
    });
  });
});

describe('packWeightByRows', () => {
  it('packs what packWeight packs, from pieces of rows, in either order, widening or rounding', async () => {
    // 1100 × 1001 fp32 rows are 4.4 MB: two reads of rows; 1001 columns leave a partial last panel.
    const [rows, columns] = [1100, 1001];
    const values = new SeededRandom(8).normalArray(rows * columns);
    const bf16 = float32ToBf16Bits(values);
    const reads: number[][] = [];
    for (const order of ['in-out', 'out-in'] as const) {
      for (const [source, dtype] of [
        [{ dtype: 'fp32', data: values, shape: [rows, columns] }, 'fp32'],
        [{ dtype: 'fp32', data: values, shape: [rows, columns] }, 'bf16'],
        [{ dtype: 'bf16', data: bf16, shape: [rows, columns] }, 'bf16'],
        [{ dtype: 'bf16', data: bf16, shape: [rows, columns] }, 'fp32'],
      ] as const) {
        const readRows = async (first: number, count: number): Promise<RawWeight> => {
          reads.push([first, count]);
          const data = source.data.slice(first * columns, (first + count) * columns);
          return { ...source, data, shape: [count, columns] } as RawWeight;
        };
        const byRows = await packWeightByRows(pool, [rows, columns], source.dtype, readRows, {
          order,
          dtype,
        });
        const whole = packWeight(pool, source as RawWeight, { order, dtype });
        expect(byRows.dtype).toBe(dtype);
        expect(byRows.values()).toEqual(whole.values());
        const x = new SeededRandom(9).normalArray(3 * byRows.inFeatures);
        expect(skinnyMatmul(byRows, x, 3)).toEqual(skinnyMatmul(whole, x, 3));
        byRows.free();
        whole.free();
      }
    }
    expect(reads.slice(0, 2)).toEqual([
      [0, 1047],
      [1047, 53],
    ]);
  });
});
