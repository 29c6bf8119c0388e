import type { SafetensorsDtype } from './dtypes.js';
import { bfloat16BitsFromFloat32, float16BitsFromFloat32 } from './half-precision.js';

/** One tensor to write. */
export interface SafetensorsTensorData {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /**
   * The elements in row-major order. The typed array that `readRaw` gives for this dtype is written
   * as it is (for F16/BF16: a Uint16Array of bit patterns). Anything else holds values: numbers for
   * float dtypes (F16/BF16 round to float32, then to nearest-even), integers (numbers or bigints)
   * within the dtype's range for integer dtypes, 0 or 1 for BOOL.
   */
  readonly data: ArrayLike<number | bigint>;
}

type Fail = (detail: string) => Error;

/** The little-endian bytes of a tensor's elements; checks every value that is not already stored-format. */
export function encodeTensorData(
  dtype: SafetensorsDtype,
  data: ArrayLike<number | bigint>,
  fail: Fail,
): Uint8Array {
  switch (dtype) {
    case 'F64':
      return bytesOf(
        data instanceof Float64Array ? data : encodeFloats(new Float64Array(data.length), data, fail),
      );
    case 'F32':
      return bytesOf(
        data instanceof Float32Array ? data : encodeFloats(new Float32Array(data.length), data, fail),
      );
    case 'F16':
      return bytesOf(encodeHalves(data, float16BitsFromFloat32, fail));
    case 'BF16':
      return bytesOf(encodeHalves(data, bfloat16BitsFromFloat32, fail));
    case 'I64':
      return bytesOf(encodeInt64(data, fail));
    case 'I32':
      return bytesOf(
        data instanceof Int32Array ? data : encodeIntegers(new Int32Array(data.length), data, dtype, fail),
      );
    case 'I16':
      return bytesOf(
        data instanceof Int16Array ? data : encodeIntegers(new Int16Array(data.length), data, dtype, fail),
      );
    case 'I8':
      return bytesOf(
        data instanceof Int8Array ? data : encodeIntegers(new Int8Array(data.length), data, dtype, fail),
      );
    case 'U8':
      return data instanceof Uint8Array
        ? data
        : encodeIntegers(new Uint8Array(data.length), data, dtype, fail);
    case 'BOOL':
      return encodeIntegers(new Uint8Array(data.length), data, dtype, fail);
  }
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function floatValue(value: number | bigint, index: number, fail: Fail): number {
  if (typeof value !== 'number') throw fail(`element ${index} is ${typeof value} ${value}, not a number`);
  return value;
}

/** Fills a float array; assigning into a Float32Array rounds to nearest float32. */
function encodeFloats<T extends Float32Array | Float64Array>(
  out: T,
  data: ArrayLike<number | bigint>,
  fail: Fail,
): T {
  for (let i = 0; i < data.length; i++) out[i] = floatValue(data[i]!, i, fail);
  return out;
}

function encodeHalves(
  data: ArrayLike<number | bigint>,
  toBits: (value: number) => number,
  fail: Fail,
): Uint16Array {
  if (data instanceof Uint16Array) return data;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toBits(floatValue(data[i]!, i, fail));
  return out;
}

const INTEGER_RANGES = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
} as const;

function encodeIntegers<T extends Int32Array | Int16Array | Int8Array | Uint8Array>(
  out: T,
  data: ArrayLike<number | bigint>,
  dtype: keyof typeof INTEGER_RANGES,
  fail: Fail,
): T {
  const [min, max] = INTEGER_RANGES[dtype];
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw fail(`element ${i} is ${value}, not an integer in the ${dtype} range [${min}, ${max}]`);
    }
    out[i] = number;
  }
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function encodeInt64(data: ArrayLike<number | bigint>, fail: Fail): BigInt64Array {
  if (data instanceof BigInt64Array) return data;
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    const integer = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value) : undefined;
    if (integer === undefined || integer < INT64_MIN || integer > INT64_MAX) {
      throw fail(`element ${i} is ${value}, not an integer in the I64 range`);
    }
    out[i] = integer;
  }
  return out;
}
