/**
 * The safetensors dtypes tsformer reads and writes, in the order of the reference implementation's
 * `Dtype` enum (increasing alignment): a file lists its tensors from the last of these to the first.
 */
export const SAFETENSORS_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'I16',
  'F16',
  'BF16',
  'I32',
  'F32',
  'F64',
  'I64',
] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

export function isSafetensorsDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(name);
}

export function bytesPerElement(dtype: SafetensorsDtype): number {
  return BYTES_PER_ELEMENT[dtype];
}

/** True for the dtypes that load as float32 (the others load as int32). */
export function isFloatDtype(dtype: SafetensorsDtype): boolean {
  return dtype === 'F16' || dtype === 'BF16' || dtype === 'F32' || dtype === 'F64';
}

/** Where `dtype` sorts in the reference `Dtype` enum: larger alignment, larger rank. */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return SAFETENSORS_DTYPES.indexOf(dtype);
}

/** Product of a shape's dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}
