import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from '../errors.js';
import { type ByteSource, memoryByteSource } from './byte-source.js';
import { type RawTensor, tensorValuesFromBytes, typedArrayFromBytes } from './decode.js';
import { isFloatDtype, type SafetensorsDtype } from './dtypes.js';
import {
  readExactly,
  readSafetensorsHeader,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './header.js';
import type { SafetensorsReader } from './safetensors-reader.js';

/**
 * One safetensors file: the header is read and validated when it is opened, each tensor's bytes
 * only when that tensor is read, so a file never needs to fit in memory twice.
 */
export class SafetensorsFile implements SafetensorsReader {
  private constructor(
    readonly location: string,
    private readonly source: ByteSource,
    private readonly header: SafetensorsHeader,
  ) {}

  /** Reads and validates the header of the file behind `source`; `location` names it in errors. */
  static async open(source: ByteSource, location: string): Promise<SafetensorsFile> {
    return new SafetensorsFile(location, source, await readSafetensorsHeader(source, location));
  }

  /** The header's `__metadata__` (e.g. `{ format: 'pt' }`), empty when absent. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Tensor names in the order of their bytes in the file. */
  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  /** A tensor's header entry: dtype, shape and byte range. */
  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (!info) throw new SafetensorsError(this.location, 'no such tensor in this file', name);
    return info;
  }

  shape(name: string): readonly number[] {
    return this.info(name).shape;
  }

  dtype(name: string): SafetensorsDtype {
    return this.info(name).dtype;
  }

  async readRaw(name: string): Promise<RawTensor> {
    const { dtype, shape } = this.info(name);
    return { dtype, shape, data: typedArrayFromBytes(dtype, await this.readBytes(name)) };
  }

  async readRawRows(name: string, firstRow: number, rowCount: number): Promise<RawTensor> {
    const { dtype, shape, dataOffsets } = this.info(name);
    const rows = shape[0] ?? 1;
    if (
      !Number.isInteger(firstRow) ||
      !Number.isInteger(rowCount) ||
      firstRow < 0 ||
      rowCount < 1 ||
      firstRow + rowCount > rows
    ) {
      throw new SafetensorsError(
        this.location,
        `rows ${firstRow}..${firstRow + rowCount - 1} are not rows of [${shape}]`,
        name,
      );
    }
    const rowBytes = (dataOffsets[1] - dataOffsets[0]) / rows;
    const start = this.header.dataStart + dataOffsets[0] + firstRow * rowBytes;
    const bytes = await readExactly(this.source, start, rowCount * rowBytes, this.location, name);
    return { dtype, shape: [rowCount, ...shape.slice(1)], data: typedArrayFromBytes(dtype, bytes) };
  }

  /** A tensor as float32 (floating dtypes) or int32 (integer and bool dtypes); the caller owns it. */
  async read(name: string): Promise<tf.Tensor> {
    const { dtype, shape } = this.info(name);
    const values = tensorValuesFromBytes(dtype, await this.readBytes(name), this.location, name);
    return tf.tensor(values, [...shape], isFloatDtype(dtype) ? 'float32' : 'int32');
  }

  private async readBytes(name: string): Promise<Uint8Array> {
    const [begin, end] = this.info(name).dataOffsets;
    return readExactly(this.source, this.header.dataStart + begin, end - begin, this.location, name);
  }
}

/** Opens safetensors bytes held in memory (a fetched file in the browser, a test fixture). */
export function openSafetensorsBytes(
  bytes: Uint8Array | ArrayBuffer,
  location = 'safetensors bytes in memory',
): Promise<SafetensorsFile> {
  return SafetensorsFile.open(memoryByteSource(bytes), location);
}
