import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { SafetensorsError } from '../errors.js';
import { expectNoLeak } from '../testing/index.js';
import { type ByteSource, memoryByteSource } from './byte-source.js';
import type { SafetensorsTensorData } from './encode.js';
import { openSafetensorsBytes, SafetensorsFile } from './safetensors-file.js';
import { serializeSafetensors } from './serialize.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Round trip: serialise one tensor, read it back stored (readRaw) and as tfjs values (read). */
async function roundTrip(tensor: SafetensorsTensorData) {
  const file = await openSafetensorsBytes(serializeSafetensors({ t: tensor }));
  const raw = await file.readRaw('t');
  const loaded = await file.read('t');
  const values = { dtype: loaded.dtype, shape: loaded.shape, data: [...loaded.dataSync()] };
  loaded.dispose();
  return { raw, values, file };
}

const bits16 = (data: ArrayLike<number | bigint>) => [...(data as Uint16Array)];

describe('serializeSafetensors and reading back, per dtype', () => {
  it('F64: stored exactly, loaded as float32 with Math.fround', async () => {
    const data = [0.1, -1e300, 5e-324, Infinity, Number.NaN, -0, 123456789.123];
    const { raw, values } = await roundTrip({ dtype: 'F64', shape: [7], data });
    expect([...(raw.data as Float64Array)]).toEqual(data);
    expect(values.dtype).toBe('float32');
    expect(values.data).toEqual(data.map(Math.fround));
    expect(Object.is(values.data[5], -0)).toBe(true);
  });

  it('F32: stored and loaded exactly, subnormals included', async () => {
    const data = Float32Array.of(1.5, -0, 1e-45, 3.4028234663852886e38, -Infinity, Number.NaN);
    const { raw, values } = await roundTrip({ dtype: 'F32', shape: [2, 3], data });
    expect(raw.data).toEqual(data);
    expect(values).toEqual({ dtype: 'float32', shape: [2, 3], data: [...data] });
  });

  it('F16: float32 values round to nearest even, specials included', async () => {
    const data = [1, -2.5, 65504, 70000, 2 ** -24, 1e-9, Number.NaN, -0, 1 + 2 ** -11];
    const { raw, values } = await roundTrip({ dtype: 'F16', shape: [9], data });
    expect(bits16(raw.data)).toEqual([
      0x3c00, 0xc100, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x7e00, 0x8000, 0x3c00,
    ]);
    expect(values.data).toEqual([1, -2.5, 65504, Infinity, 2 ** -24, 0, Number.NaN, -0, 1]);
  });

  it('BF16: float32 values round to nearest even; loading puts the bits in the high half', async () => {
    const data = [1, -2.5, 3.140625, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, Number.NaN, -0];
    const { raw, values } = await roundTrip({ dtype: 'BF16', shape: [8], data });
    expect(bits16(raw.data)).toEqual([0x3f80, 0xc020, 0x4049, 0x3f80, 0x3f82, 0x7f80, 0x7fc0, 0x8000]);
    expect(values.data).toEqual([1, -2.5, 3.140625, 1, 1 + 2 ** -6, Infinity, Number.NaN, -0]);
  });

  it('F16/BF16: a Uint16Array is written as bit patterns, so readRaw output writes back unchanged', async () => {
    const patterns = Uint16Array.of(0x0001, 0x7bff, 0xfc00, 0x7c01, 0x3555);
    for (const dtype of ['F16', 'BF16'] as const) {
      const { raw, file } = await roundTrip({ dtype, shape: [5], data: patterns });
      expect(bits16(raw.data)).toEqual([...patterns]);
      const again = await openSafetensorsBytes(serializeSafetensors({ t: await file.readRaw('t') }));
      expect(bits16((await again.readRaw('t')).data)).toEqual([...patterns]);
    }
  });

  it('I64: numbers and bigints stored exactly, loaded as int32 when they fit', async () => {
    const data = [0, -1, 2147483647, -2147483648, 7n];
    const { raw, values } = await roundTrip({ dtype: 'I64', shape: [5], data });
    expect([...(raw.data as BigInt64Array)]).toEqual([0n, -1n, 2147483647n, -2147483648n, 7n]);
    expect(values).toEqual({ dtype: 'int32', shape: [5], data: [0, -1, 2147483647, -2147483648, 7] });
  });

  it('I64: a value outside int32 is a SafetensorsError naming the tensor and the value', async () => {
    for (const outside of [2n ** 31n, -(2n ** 31n) - 1n, 2n ** 40n, -(2n ** 63n)]) {
      const file = await openSafetensorsBytes(
        serializeSafetensors({ 'big.ids': { dtype: 'I64', shape: [2], data: [1n, outside] } }),
        'ids.safetensors',
      );
      expect([...((await file.readRaw('big.ids')).data as BigInt64Array)]).toEqual([1n, outside]);
      const error = await file.read('big.ids').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as SafetensorsError).tensorName).toBe('big.ids');
      expect((error as Error).message).toMatch(/^ids\.safetensors: tensor "big\.ids": I64 value/);
      expect((error as Error).message).toContain(`${outside} at element 1 does not fit in int32`);
    }
  });

  it('I32, I16, I8, U8 and BOOL: extremes stored exactly and loaded as int32', async () => {
    const cases = [
      { dtype: 'I32', data: [-2147483648, 2147483647, 0], Type: Int32Array },
      { dtype: 'I16', data: [-32768, 32767, -1], Type: Int16Array },
      { dtype: 'I8', data: [-128, 127, -1], Type: Int8Array },
      { dtype: 'U8', data: [0, 255, 128], Type: Uint8Array },
      { dtype: 'BOOL', data: [1, 0, 1], Type: Uint8Array },
    ] as const;
    for (const { dtype, data, Type } of cases) {
      const { raw, values } = await roundTrip({ dtype, shape: [3], data });
      expect(raw.data).toBeInstanceOf(Type);
      expect([...(raw.data as Int32Array)]).toEqual(data);
      expect(values).toEqual({ dtype: 'int32', shape: [3], data });
    }
  });

  it('loads any non-zero BOOL byte as 1', async () => {
    const json = new TextEncoder().encode('{"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}');
    const asBool = new Uint8Array([json.length, 0, 0, 0, 0, 0, 0, 0, ...json, 0, 2, 255]);
    const tensor = await (await openSafetensorsBytes(asBool)).read('b');
    expect([...tensor.dataSync()]).toEqual([0, 1, 1]);
    tensor.dispose();
  });

  it('reads tensors from a buffer at an odd offset (unaligned typed-array views)', async () => {
    const file = serializeSafetensors({
      d: { dtype: 'F64', shape: [2], data: [1.25, -3] },
      i: { dtype: 'I64', shape: [1], data: [-5] },
      h: { dtype: 'BF16', shape: [1], data: [2] },
    });
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    const opened = await openSafetensorsBytes(padded.subarray(3));
    expect([...((await opened.readRaw('d')).data as Float64Array)]).toEqual([1.25, -3]);
    const tensor = await opened.read('i');
    expect([...tensor.dataSync()]).toEqual([-5]);
    tensor.dispose();
  });

  it('reads empty tensors without asking the source for zero bytes', async () => {
    const bytes = serializeSafetensors({
      empty: { dtype: 'F32', shape: [0, 3], data: [] },
      one: { dtype: 'I8', shape: [1], data: [-3] },
    });
    const inMemory = memoryByteSource(bytes);
    const strict: ByteSource = {
      size: inMemory.size,
      read: (offset, length) => {
        if (length === 0) throw new Error('asked for zero bytes');
        return inMemory.read(offset, length);
      },
    };
    const file = await SafetensorsFile.open(strict, 'ranges');
    const empty = await file.read('empty');
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.size).toBe(0);
    empty.dispose();
  });

  it('never aliases the caller buffer: a loaded tensor keeps its values when the buffer changes', async () => {
    const file = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } });
    const tensor = await (await openSafetensorsBytes(file)).read('w');
    file.fill(0, file.length - 8);
    expect([...tensor.dataSync()]).toEqual([1, 2]);
    tensor.dispose();
  });
});

describe('serializeSafetensors layout', () => {
  // Byte vectors from the tests of the reference implementation (huggingface/safetensors, tensor.rs).
  const floats = Float32Array.of(0, 1, 2, 3, 4, 5);
  const header = (text: string) => [...new TextEncoder().encode(text)];
  const tail = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];

  it('matches the reference bytes for one F32 tensor', () => {
    const bytes = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: floats } });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect([...bytes]).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...header(json), ...tail]);
  });

  it('pads the header with spaces to a multiple of 8, as the reference does', () => {
    const bytes = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: floats } });
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ';
    expect([...bytes]).toEqual([72, 0, 0, 0, 0, 0, 0, 0, ...header(json), ...tail]);
  });

  it('matches the reference bytes for an empty file, with and without metadata', () => {
    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...header('{}      ')]);
    expect([...serializeSafetensors({}, { framework: 'pt' })]).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...header('{"__metadata__":{"framework":"pt"}}     '),
    ]);
  });

  it('orders tensors by dtype alignment, then name, whatever the input order, and keeps them aligned', async () => {
    const bytes = serializeSafetensors(
      {
        z: { dtype: 'U8', shape: [3], data: [1, 2, 3] },
        '10': { dtype: 'F32', shape: [1], data: [1] },
        b: { dtype: 'I64', shape: [1], data: [1] },
        a: { dtype: 'I64', shape: [1], data: [2] },
        '9': { dtype: 'F32', shape: [1], data: [1] },
        h: { dtype: 'BF16', shape: [3], data: [1, 2, 3] },
        d: { dtype: 'F64', shape: [1], data: [1] },
      },
      { format: 'pt', a: 'first' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(text.startsWith('{"__metadata__":{"a":"first","format":"pt"},"a":')).toBe(true);
    const file = await openSafetensorsBytes(bytes);
    expect(file.names()).toEqual(['a', 'b', 'd', '10', '9', 'h', 'z']);
    expect(file.metadata).toEqual({ format: 'pt', a: 'first' });
    for (const name of file.names()) {
      const [begin] = file.info(name).dataOffsets;
      expect((8 + headerLength + begin) % Math.min(8, bytesOf(file.dtype(name)))).toBe(0);
    }
  });

  it('writes tfjs tensors: float32 as F32, int32 as I32, bool as BOOL', async () => {
    await expectNoLeak(async () => {
      const inputs = {
        f: tf.tensor2d([1.5, 2, 3, 4], [2, 2]),
        i: tf.tensor1d([7, -8], 'int32'),
        b: tf.tensor1d([true, false], 'bool'),
      };
      const file = await openSafetensorsBytes(serializeSafetensors(inputs));
      expect(['f', 'i', 'b'].map((name) => file.dtype(name))).toEqual(['F32', 'I32', 'BOOL']);
      for (const [name, input] of Object.entries(inputs)) {
        const loaded = await file.read(name);
        expect(loaded.shape).toEqual(input.shape);
        expect([...loaded.dataSync()]).toEqual([...input.dataSync()].map(Number));
        loaded.dispose();
      }
      tf.dispose(Object.values(inputs));
    });
  });
});

function bytesOf(dtype: string): number {
  return { BOOL: 1, U8: 1, I8: 1, I16: 2, F16: 2, BF16: 2, I32: 4, F32: 4, F64: 8, I64: 8 }[dtype]!;
}

describe('serializeSafetensors rejects what it cannot write', () => {
  const cases: [string, Record<string, SafetensorsTensorData>, RegExp][] = [
    [
      'I8 above its range',
      { t: { dtype: 'I8', shape: [2], data: [1, 128] } },
      /element 1 is 128, not an integer in the I8 range \[-128, 127\]/,
    ],
    ['U8 below its range', { t: { dtype: 'U8', shape: [1], data: [-1] } }, /U8 range \[0, 255\]/],
    ['a fractional I16', { t: { dtype: 'I16', shape: [1], data: [1.5] } }, /element 0 is 1.5/],
    ['BOOL other than 0/1', { t: { dtype: 'BOOL', shape: [1], data: [2] } }, /BOOL range \[0, 1\]/],
    ['I32 above its range', { t: { dtype: 'I32', shape: [1], data: [2 ** 31] } }, /I32 range/],
    [
      'I64 above its range',
      { t: { dtype: 'I64', shape: [1], data: [2n ** 63n] } },
      /not an integer in the I64 range/,
    ],
    ['a fractional I64', { t: { dtype: 'I64', shape: [1], data: [0.5] } }, /element 0 is 0.5/],
    [
      'a bigint for a float dtype',
      { t: { dtype: 'F32', shape: [1], data: [1n] } },
      /element 0 is bigint 1, not a number/,
    ],
    [
      'data of the wrong length',
      { t: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } },
      /3 elements, but shape \[2,2\] needs 4/,
    ],
    ['a negative dimension', { t: { dtype: 'F32', shape: [-1], data: [] } }, /shape \[-1\] is not a list/],
    ['the reserved name', { __metadata__: { dtype: 'F32', shape: [0], data: [] } }, /reserved/],
  ];
  for (const [what, tensors, message] of cases) {
    it(`rejects ${what}`, () => {
      const error = (() => {
        try {
          serializeSafetensors(tensors);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as SafetensorsError).tensorName).toBe(Object.keys(tensors)[0]);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('rejects metadata that is not strings and tfjs dtypes without a counterpart', () => {
    expect(() => serializeSafetensors({}, { step: 3 } as unknown as Record<string, string>)).toThrow(
      /metadata "step" is number/,
    );
    const strings = tf.tensor(['a']);
    expect(() => serializeSafetensors({ s: strings })).toThrow(/tfjs dtype string cannot be written/);
    strings.dispose();
  });

  it('leaves its inputs unchanged', () => {
    const data = [1, 2.7, 3];
    const shape = [3];
    serializeSafetensors({ t: { dtype: 'BF16', shape, data } });
    expect(data).toEqual([1, 2.7, 3]);
    expect(shape).toEqual([3]);
  });
});

describe('SafetensorsFile.readRawRows', () => {
  it('reads any run of rows of a tensor as stored, and refuses rows it does not have', async () => {
    const data = Uint16Array.from({ length: 5 * 3 }, (_, k) => 0x3f80 + k); // BF16 patterns, [5, 3]
    const file = await openSafetensorsBytes(
      serializeSafetensors({
        a: { dtype: 'F32', shape: [2], data: [1, 2] },
        t: { dtype: 'BF16', shape: [5, 3], data },
      }),
    );
    const rows = await file.readRawRows('t', 1, 3);
    expect(rows.dtype).toBe('BF16');
    expect(rows.shape).toEqual([3, 3]);
    expect(bits16(rows.data)).toEqual([...data.subarray(3, 12)]);
    await expect(file.readRawRows('t', 4, 2)).rejects.toThrow(/rows 4\.\.5 are not rows of \[5,3\]/);
  });
});
