import { SafetensorsError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { bytesPerElement, isSafetensorsDtype, SAFETENSORS_DTYPES, type SafetensorsDtype } from './dtypes.js';
import { parseExactJson } from './exact-json.js';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsTensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** `[begin, end)` byte range inside the data section (which starts right after the header). */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** The header's `__metadata__` (string to string), empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, in the order of their bytes in the file. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** File offset where the data section starts: 8 + the header length. */
  readonly dataStart: number;
}

/** Headers longer than this are refused, as the reference implementation does (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/**
 * Reads and validates the header of a safetensors file: the 8-byte little-endian header length,
 * the JSON header, and the layout of the data section. Tensor bytes are not read. Every defect
 * is a SafetensorsError naming `location` (and the tensor, where one is to blame).
 */
export async function readSafetensorsHeader(
  source: ByteSource,
  location: string,
): Promise<SafetensorsHeader> {
  const fail = (detail: string, tensorName?: string) => new SafetensorsError(location, detail, tensorName);
  if (source.size < 8) {
    throw fail(`file is ${source.size} bytes long, too short for the 8-byte header length`);
  }
  const lengthBytes = await readExactly(source, 0, 8, location);
  const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLength} is absurdly large (the limit is ${MAX_HEADER_BYTES} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  if (dataStart > source.size) {
    throw fail(`header length ${headerLength} runs past the end of the file (${source.size} bytes)`);
  }
  const dataLength = source.size - dataStart;
  const parsed = parseHeaderJson(await readExactly(source, 8, Number(headerLength), location), fail);

  let metadata: Record<string, string> = {};
  const entries: [string, SafetensorsTensorInfo][] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, fail);
    else entries.push([name, parseTensorInfo(value, dataLength, (detail) => fail(detail, name))]);
  }
  entries.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  checkLayout(entries, dataLength, fail);
  return { metadata, tensors: new Map(entries), dataStart };
}

/** `length` bytes from `offset`, or a SafetensorsError when the source ends before them. */
export async function readExactly(
  source: ByteSource,
  offset: number,
  length: number,
  location: string,
  tensorName?: string,
): Promise<Uint8Array> {
  // An empty tensor reads nothing (an empty HTTP range cannot even be asked for).
  if (length === 0) return new Uint8Array(0);
  const bytes = await source.read(offset, length);
  if (bytes.byteLength !== length) {
    throw new SafetensorsError(
      location,
      `file ended early: read ${bytes.byteLength} of ${length} bytes at offset ${offset}`,
      tensorName,
    );
  }
  return bytes;
}

type Fail = (detail: string, tensorName?: string) => SafetensorsError;

/**
 * The header as a JSON object, parsed exactly: a name used twice is an error (JSON.parse would keep
 * the last entry silently), integers are bigints (`384.0` and `1e2` stay apart from `384` and `100`).
 */
function parseHeaderJson(bytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw fail('header is not valid UTF-8');
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw fail(`header is not valid JSON (${(error as Error).message})`);
  }
  const parsed = parseExactJson(text, {
    duplicateKey(key, path) {
      if (path.length > 0 && path[0] !== METADATA_KEY) return fail(`entry has "${key}" twice`, path[0]);
      if (path.length > 0) return fail(`${METADATA_KEY} has the key "${key}" twice`);
      return key === METADATA_KEY
        ? fail(`${METADATA_KEY} appears twice`)
        : fail('appears twice in the header', key);
    },
    tooDeep(maxDepth, [entry]) {
      const detail = `nests arrays or objects more than ${maxDepth} deep`;
      return entry === METADATA_KEY ? fail(`${METADATA_KEY} ${detail}`) : fail(`entry ${detail}`, entry);
    },
  });
  if (!isPlainObject(parsed)) throw fail(`header is ${describeJson(parsed)}, not a JSON object`);
  return parsed;
}

function parseMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (value === null) return {};
  if (!isPlainObject(value))
    throw fail(`${METADATA_KEY} is ${describeJson(value)}, not an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw fail(`${METADATA_KEY}["${key}"] is ${describeJson(entry)}, not a string`);
    }
  }
  return { ...value } as Record<string, string>;
}

function parseTensorInfo(
  value: unknown,
  dataLength: number,
  fail: (detail: string) => SafetensorsError,
): SafetensorsTensorInfo {
  if (!isPlainObject(value)) throw fail(`entry is ${describeJson(value)}, not an object`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(value, field)) throw fail(`entry has no ${field}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isSafetensorsDtype(dtype)) {
    throw fail(
      `unknown or unsupported dtype ${preview(dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`shape ${preview(shape)} is not a list of non-negative integers${decimalNote(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every(isCount) ||
    offsets[0]! > offsets[1]!
  ) {
    throw fail(
      `data_offsets ${preview(offsets)} is not a pair [begin, end] of integers with begin <= end${decimalNote(offsets)}`,
    );
  }
  const [begin, end] = offsets as [bigint, bigint];
  const range = `data_offsets [${begin}, ${end}]`;
  const byteLength =
    shape.reduce((count: bigint, dim: bigint) => count * dim, 1n) * BigInt(bytesPerElement(dtype));
  if (byteLength !== end - begin) {
    throw fail(
      `shape ${preview(shape)} of ${dtype} needs ${byteLength} bytes, but ${range} hold ${end - begin}`,
    );
  }
  if (end > BigInt(dataLength)) {
    throw fail(`${range} run past the end of the data section (${dataLength} bytes)`);
  }
  const tooLarge = shape.find((dim: bigint) => dim > BigInt(Number.MAX_SAFE_INTEGER));
  if (tooLarge !== undefined) {
    throw fail(`shape ${preview(shape)} has the dimension ${tooLarge}, larger than 2^53 - 1`);
  }
  return { dtype, shape: shape.map(Number), dataOffsets: [Number(begin), Number(end)] };
}

/** Tensors, sorted by offset, must tile the data section exactly: no overlap, no gap, nothing past its end. */
function checkLayout(sorted: [string, SafetensorsTensorInfo][], dataLength: number, fail: Fail): void {
  let covered = 0;
  let previous: string | undefined;
  for (const [name, { dataOffsets }] of sorted) {
    const [begin, end] = dataOffsets;
    const range = `data_offsets [${begin}, ${end}]`;
    if (end > dataLength) {
      throw fail(`${range} run past the end of the data section (${dataLength} bytes)`, name);
    }
    if (begin < covered) throw fail(`${range} overlap tensor "${previous}" (which ends at ${covered})`, name);
    if (begin > covered) {
      throw fail(`${range} leave a gap of ${begin - covered} unused bytes before this tensor`, name);
    }
    covered = end;
    previous = name;
  }
  if (covered !== dataLength) {
    throw fail(`tensors cover ${covered} bytes, but the data section holds ${dataLength}`);
  }
}

/** A non-negative integer written as one in the header (`parseExactJson` made it a bigint). */
function isCount(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n;
}

/** A JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value's kind for messages: `null`, `an array`, `a string ("x")`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'bigint') return `a number (${value})`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${preview(value)})`;
}

/** A JSON value as compact text, integers exact, cut short: a hostile header must not make a megabyte message. */
function preview(value: unknown, limit = 60): string {
  const text = jsonText(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([key, entry]) => `${JSON.stringify(key)}:${jsonText(entry)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

/** Says so when a list holds a whole number written as a decimal or with an exponent (`384.0`, `1e2`). */
function decimalNote(value: unknown): string {
  const decimal = Array.isArray(value) ? value.find((entry) => Number.isInteger(entry)) : undefined;
  return decimal === undefined ? '' : ` (${decimal} is written as a decimal or with an exponent)`;
}
