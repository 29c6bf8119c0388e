import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from '../errors.js';
import { bytesPerElement, dtypeRank, elementCount, type SafetensorsDtype } from './dtypes.js';
import { encodeTensorData, type SafetensorsTensorData } from './encode.js';

/** A tensor to write: explicit dtype, shape and data, or a tfjs tensor (float32 → F32, int32 → I32, bool → BOOL). */
export type SafetensorsInput = SafetensorsTensorData | tf.Tensor;

/** One tensor placed in a file being written; its bytes are encoded only when asked for. */
export interface PlannedTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** The bytes, read synchronously (a tfjs tensor through `dataSync`: cpu and wasm only). */
  encode(): Uint8Array;
  /** The bytes, a tfjs tensor read with `await data()` (any backend, webgpu included). */
  encodeAsync(): Promise<Uint8Array>;
}

/** Everything about a file to write except the tensor bytes: its header and the tensors in file order. */
export interface SafetensorsLayout {
  /** The 8-byte header length followed by the JSON header, padded with spaces to a multiple of 8. */
  readonly header: Uint8Array;
  readonly tensors: readonly PlannedTensor[];
  /** Header plus data: the size of the file. */
  readonly fileSize: number;
}

const TF_TO_SAFETENSORS: Partial<Record<tf.DataType, SafetensorsDtype>> = {
  float32: 'F32',
  int32: 'I32',
  bool: 'BOOL',
};

/** Checks one tensor to write and describes it; nothing is read from it yet. */
export function planTensor(name: string, input: SafetensorsInput, location: string): PlannedTensor {
  const fail = (detail: string) => new SafetensorsError(location, detail, name);
  if (name === '__metadata__') throw fail('this name is reserved for the header metadata');
  if (input instanceof tf.Tensor) {
    const dtype = TF_TO_SAFETENSORS[input.dtype];
    if (!dtype) throw fail(`tfjs dtype ${input.dtype} cannot be written (float32, int32 and bool can)`);
    return plan(
      name,
      dtype,
      input.shape,
      () => input.dataSync(),
      fail,
      () => input.data(),
    );
  }
  const { dtype, shape, data } = input;
  if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw fail(`shape [${shape}] is not a list of non-negative integers`);
  }
  if (data.length !== elementCount(shape)) {
    throw fail(`data has ${data.length} elements, but shape [${shape}] needs ${elementCount(shape)}`);
  }
  return plan(name, dtype, shape, () => data, fail);
}

function plan(
  name: string,
  dtype: SafetensorsDtype,
  shape: readonly number[],
  data: () => ArrayLike<number | bigint>,
  fail: (detail: string) => SafetensorsError,
  read: () => Promise<ArrayLike<number | bigint>> = async () => data(),
): PlannedTensor {
  return {
    name,
    dtype,
    shape: [...shape],
    byteLength: elementCount(shape) * bytesPerElement(dtype),
    encode: () => encodeTensorData(dtype, data(), fail),
    encodeAsync: async () => encodeTensorData(dtype, await read(), fail),
  };
}

/**
 * Lays out a file as the reference implementation does: tensors sorted by dtype alignment
 * (largest first), then by name; `__metadata__` first in the header (keys sorted); the header
 * padded with spaces to a multiple of 8 bytes so every tensor starts aligned.
 */
export function layoutSafetensors(
  tensors: readonly PlannedTensor[],
  metadata: Readonly<Record<string, string>> | undefined,
  location: string,
): SafetensorsLayout {
  const ordered = [...tensors].sort(
    (a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name),
  );
  const entries: string[] = [];
  if (metadata !== undefined) {
    const metadataEntries = Object.entries(metadata).sort(([a], [b]) => compareCodePoints(a, b));
    for (const [key, value] of metadataEntries) {
      if (typeof value !== 'string') {
        throw new SafetensorsError(
          location,
          `metadata "${key}" is ${typeof value}; header metadata values are strings`,
        );
      }
    }
    entries.push(`"__metadata__":${jsonObject(metadataEntries)}`);
  }
  let offset = 0;
  for (const { name, dtype, shape, byteLength } of ordered) {
    const info = `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + byteLength}]}`;
    entries.push(`${JSON.stringify(name)}:${info}`);
    offset += byteLength;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const paddedLength = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + paddedLength).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(paddedLength), true);
  header.set(json, 8);
  return { header, tensors: ordered, fileSize: header.length + offset };
}

/**
 * Serialises tensors (and optional `__metadata__`) to the bytes of a safetensors file, synchronously: a
 * tfjs tensor is read with `dataSync`, which the webgpu backend cannot do in Node. There, pass the
 * values (`{ dtype, shape, data }` from `await tensor.data()`) or write a file with `saveSafetensors`,
 * which reads tensors asynchronously.
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const location = 'safetensors being serialised';
  const planned = Object.entries(tensors).map(([name, input]) => planTensor(name, input, location));
  const layout = layoutSafetensors(planned, metadata, location);
  const file = new Uint8Array(layout.fileSize);
  file.set(layout.header);
  let offset = layout.header.length;
  for (const tensor of layout.tensors) {
    file.set(tensor.encode(), offset);
    offset += tensor.byteLength;
  }
  return file;
}

/** A JSON object from entries, keys in the given order (JSON.stringify would move integer-like keys first). */
export function jsonObject(entries: readonly (readonly [string, string | number])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

/** Orders strings by Unicode code point, as Rust and Python sort them (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
