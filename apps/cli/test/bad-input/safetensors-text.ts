// A safetensors file taken apart into the pieces a mutation rewrites: the JSON header as an ordered
// list of raw-text entries, and the data section. The writer in @tsformer/core-tensor refuses to
// write a bad header, so the corpus assembles its bad headers as text here.

/** A tensor's header entry, each field as raw JSON text (a mutation may put anything there). */
export interface EntryText {
  readonly dtype?: string;
  readonly shape?: string;
  readonly data_offsets?: string;
  /** Raw text appended inside the entry's braces: `,"note":"x"`. */
  readonly extra?: string;
}

/** One tensor of a fixture file, as its header gives it. */
export interface StoredTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A fixture safetensors file taken apart. */
export interface SafetensorsParts {
  /** The header length the file declares. */
  readonly headerLength: number;
  /** The header's JSON text (padding trimmed). */
  readonly headerText: string;
  /** `__metadata__` as raw JSON text, when the header has it. */
  readonly metadataText: string | undefined;
  /** The tensors in header order. */
  readonly tensors: readonly StoredTensor[];
  readonly data: Uint8Array;
  readonly fileSize: number;
}

/** Takes a (valid) fixture safetensors file apart. */
export function takeApart(bytes: Uint8Array): SafetensorsParts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)).trimEnd();
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const tensors: StoredTensor[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    tensors.push({
      name,
      dtype: entry.dtype,
      shape: entry.shape,
      begin: entry.data_offsets[0],
      end: entry.data_offsets[1],
    });
  }
  return {
    headerLength,
    headerText,
    metadataText: header.__metadata__ === undefined ? undefined : JSON.stringify(header.__metadata__),
    tensors,
    data: bytes.subarray(8 + headerLength),
    fileSize: bytes.byteLength,
  };
}

/** The entry text of a stored tensor, with fields replaced (`undefined` in `changes` leaves a field out). */
export function entryText(
  tensor: StoredTensor,
  changes: Partial<Record<keyof EntryText, string | undefined>> = {},
): string {
  const fields: EntryText = {
    dtype: JSON.stringify(tensor.dtype),
    shape: JSON.stringify(tensor.shape),
    data_offsets: JSON.stringify([tensor.begin, tensor.end]),
  };
  const merged = { ...fields, ...changes };
  const parts = (['dtype', 'shape', 'data_offsets'] as const)
    .filter((field) => merged[field] !== undefined)
    .map((field) => `"${field}":${merged[field]}`);
  return `{${parts.join(',')}${merged.extra ?? ''}}`;
}

/** A header's JSON text from `[name or raw key text, raw value text]` pairs, in this order. */
export function headerFromEntries(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`;
}

/** The fixture's entries as text pairs, `__metadata__` first when present. */
export function originalEntries(parts: SafetensorsParts): [string, string][] {
  const entries: [string, string][] = parts.tensors.map((tensor) => [tensor.name, entryText(tensor)]);
  if (parts.metadataText !== undefined) entries.unshift(['__metadata__', parts.metadataText]);
  return entries;
}

/**
 * A file: the 8-byte little-endian length, the header text (bytes: taken as they are) padded with
 * `padding` to a multiple of 8 unless `padding` is empty, then `data`. `declaredLength` overrides the length.
 */
export function assemble(
  header: string | Uint8Array,
  data: Uint8Array,
  options: { padding?: string; declaredLength?: bigint } = {},
): Uint8Array[] {
  const text = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const padding = options.padding ?? ' ';
  const padded = padding === '' ? text.length : Math.ceil(text.length / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, options.declaredLength ?? BigInt(padded), true);
  head.set(text, 8);
  head.fill(padding.charCodeAt(0) || 0x20, 8 + text.length);
  return [head, data];
}

/** The bytes a tensor's dtype gives each element (0 for dtypes the reader does not know). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
