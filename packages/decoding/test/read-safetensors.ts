import { readFileSync } from 'node:fs';

/** A tiny safetensors reader for fixtures (F32 and I64 only): tensor name → shape and values. */
export function readSafetensors(path: string): Map<string, { shape: number[]; values: number[] }> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const tensors = new Map<string, { shape: number[]; values: number[] }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = entry.data_offsets;
    const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const values: number[] = [];
    if (entry.dtype === 'F32')
      for (let i = 0; i < data.byteLength; i += 4) values.push(view.getFloat32(i, true));
    else if (entry.dtype === 'I64')
      for (let i = 0; i < data.byteLength; i += 8) values.push(Number(view.getBigInt64(i, true)));
    else throw new Error(`${path}: ${name} has dtype ${entry.dtype}, which this reader does not handle`);
    tensors.set(name, { shape: entry.shape, values });
  }
  return tensors;
}
