import type { WeightSource } from '../weight-source.js';
import type { RawTensor } from './decode.js';
import type { SafetensorsDtype } from './dtypes.js';

/** A safetensors file or sharded folder: a WeightSource that also tells dtypes and reads stored data. */
export interface SafetensorsReader extends WeightSource {
  /** The stored dtype of a tensor. */
  dtype(name: string): SafetensorsDtype;
  /** A tensor's stored elements, unconverted (F16/BF16 as 16-bit patterns): for tests and tools. */
  readRaw(name: string): Promise<RawTensor>;
  /**
   * Rows `firstRow .. firstRow + rowCount - 1` of a tensor (along its first dimension), stored
   * elements unconverted: a large tensor read in pieces, never whole in memory (packing weights).
   */
  readRawRows(name: string, firstRow: number, rowCount: number): Promise<RawTensor>;
}
