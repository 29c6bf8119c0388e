import { SafetensorsError } from '../errors.js';
import type { SafetensorsDtype } from './dtypes.js';
import { float32FromBfloat16Bits, float32FromFloat16Bits } from './half-precision.js';

/** A tensor's elements as stored: F16 and BF16 as their 16-bit patterns, BOOL as bytes 0/1. */
export type SafetensorsTypedArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor exactly as stored in a safetensors file. */
export interface RawTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: SafetensorsTypedArray;
}

interface TypedArrayType<T> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * A typed view of little-endian tensor bytes (the byte order of every host JavaScript runs on).
 * A tensor's bytes may start at any offset, so they are copied when the view would be misaligned.
 */
function littleEndianView<T>(Type: TypedArrayType<T>, bytes: Uint8Array): T {
  const width = Type.BYTES_PER_ELEMENT;
  const aligned =
    bytes.byteOffset % width === 0 && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
  return new Type(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / width);
}

/** The stored elements of a tensor's bytes as the typed array of its dtype. */
export function typedArrayFromBytes(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsTypedArray {
  switch (dtype) {
    case 'F64':
      return littleEndianView(Float64Array, bytes);
    case 'F32':
      return littleEndianView(Float32Array, bytes);
    case 'F16':
    case 'BF16':
      return littleEndianView(Uint16Array, bytes);
    case 'I64':
      return littleEndianView(BigInt64Array, bytes);
    case 'I32':
      return littleEndianView(Int32Array, bytes);
    case 'I16':
      return littleEndianView(Int16Array, bytes);
    case 'I8':
      return littleEndianView(Int8Array, bytes);
    case 'U8':
    case 'BOOL':
      return bytes;
  }
}

/**
 * A tensor's bytes as tfjs values, as PyTorch's `.float()` / `.int()` would give them: floating
 * dtypes widen or round to float32, integer dtypes become int32 (an I64 value outside int32 is a
 * SafetensorsError naming the tensor), BOOL becomes 0/1.
 */
export function tensorValuesFromBytes(
  dtype: SafetensorsDtype,
  bytes: Uint8Array,
  location: string,
  tensorName: string,
): Float32Array | Int32Array {
  switch (dtype) {
    case 'F64':
      // Assigning into a Float32Array rounds each value to nearest float32 (Math.fround).
      return Float32Array.from(littleEndianView(Float64Array, bytes));
    case 'F32':
      return littleEndianView(Float32Array, bytes);
    case 'F16':
      return float32FromFloat16Bits(littleEndianView(Uint16Array, bytes));
    case 'BF16':
      return float32FromBfloat16Bits(littleEndianView(Uint16Array, bytes));
    case 'I64':
      return int32FromInt64(littleEndianView(Int32Array, bytes), location, tensorName);
    case 'I32':
      return littleEndianView(Int32Array, bytes);
    case 'I16':
      return Int32Array.from(littleEndianView(Int16Array, bytes));
    case 'I8':
      return Int32Array.from(littleEndianView(Int8Array, bytes));
    case 'U8':
      return Int32Array.from(bytes);
    case 'BOOL':
      return Int32Array.from(bytes, (byte) => (byte === 0 ? 0 : 1));
  }
}

/** Narrows little-endian int64 values, given as [low, high] int32 word pairs, to int32. */
function int32FromInt64(words: Int32Array, location: string, tensorName: string): Int32Array {
  const out = new Int32Array(words.length / 2);
  for (let i = 0; i < out.length; i++) {
    const low = words[2 * i]!;
    const high = words[2 * i + 1]!;
    // The value fits in int32 exactly when the high word is the sign extension of the low word.
    if (high !== low >> 31) {
      const value = (BigInt(high) << 32n) + BigInt(low >>> 0);
      throw new SafetensorsError(
        location,
        `I64 value ${value} at element ${i} does not fit in int32 (tsformer loads integers as int32)`,
        tensorName,
      );
    }
    out[i] = low;
  }
  return out;
}
