import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../errors.js';
import { SeededRandom } from '../random.js';
import { memoryByteSource } from './byte-source.js';
import { readSafetensorsHeader } from './header.js';
import { SafetensorsFile } from './safetensors-file.js';

const LOCATION = 'test.safetensors';

/** A file built by hand: the 8-byte length, the header text as given, then `dataBytes` bytes. */
function fileWith(header: string | Uint8Array, dataBytes = 0, declaredLength?: number | bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const file = new Uint8Array(8 + json.length + dataBytes);
  new DataView(file.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  file.set(json, 8);
  for (let i = 8 + json.length; i < file.length; i++) file[i] = i % 251;
  return file;
}

async function headerError(file: Uint8Array): Promise<SafetensorsError> {
  const error = await readSafetensorsHeader(memoryByteSource(file), LOCATION).catch((e: unknown) => e);
  if (!(error instanceof SafetensorsError))
    throw new Error(`expected a SafetensorsError, got ${String(error)}`);
  expect(error.location).toBe(LOCATION);
  expect(error.message).toContain(LOCATION);
  return error;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

describe('readSafetensorsHeader', () => {
  it('reads metadata, dtypes, shapes and offsets, tensors in file order', async () => {
    const header = `{"b":${entry('F32', [2], 8, 16)},"__metadata__":{"format":"pt"},"a":${entry('I64', [1], 0, 8)}}`;
    const parsed = await readSafetensorsHeader(memoryByteSource(fileWith(header, 16)), LOCATION);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect([...parsed.tensors.keys()]).toEqual(['a', 'b']);
    expect(parsed.tensors.get('b')).toEqual({ dtype: 'F32', shape: [2], dataOffsets: [8, 16] });
    expect(parsed.dataStart).toBe(8 + new TextEncoder().encode(header).length);
  });

  it('keeps "__proto__" as an ordinary tensor name', async () => {
    const parsed = await readSafetensorsHeader(
      memoryByteSource(fileWith(`{"__proto__":${entry('U8', [2], 0, 2)}}`, 2)),
      LOCATION,
    );
    expect([...parsed.tensors.keys()]).toEqual(['__proto__']);
  });

  it('accepts an empty file body and zero-sized tensors', async () => {
    const parsed = await readSafetensorsHeader(
      memoryByteSource(fileWith(`{"e":${entry('BF16', [0, 3], 0, 0)}}`)),
      LOCATION,
    );
    expect(parsed.tensors.get('e')!.shape).toEqual([0, 3]);
  });

  const cases: [string, Uint8Array, RegExp, string?][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /5 bytes long, too short/],
    [
      'a header length past the end of the file',
      fileWith('{}', 0, 100),
      /header length 100 runs past the end of the file \(10 bytes\)/,
    ],
    ['an absurd header length', fileWith('{}', 0, 2 ** 40), /absurdly large/],
    ['a header that is not UTF-8', fileWith(Uint8Array.of(0x7b, 0xff, 0x7d)), /not valid UTF-8/],
    ['a header that is not JSON', fileWith('{"a": '), /not valid JSON/],
    ['a header that is a JSON array', fileWith('[1, 2]'), /header is an array, not a JSON object/],
    ['a header that is null', fileWith('null'), /header is null, not a JSON object/],
    [
      'metadata that is not strings',
      fileWith('{"__metadata__":{"step":3}}'),
      /__metadata__\["step"\] is a number/,
    ],
    ['a tensor entry that is not an object', fileWith('{"w":[1]}'), /entry is an array/, 'w'],
    [
      'a tensor without dtype',
      fileWith('{"w":{"shape":[1],"data_offsets":[0,4]}}', 4),
      /entry has no dtype/,
      'w',
    ],
    [
      'a tensor without shape',
      fileWith('{"w":{"dtype":"F32","data_offsets":[0,4]}}', 4),
      /entry has no shape/,
      'w',
    ],
    [
      'a tensor without data_offsets',
      fileWith('{"w":{"dtype":"F32","shape":[1]}}', 4),
      /entry has no data_offsets/,
      'w',
    ],
    [
      'an unknown dtype',
      fileWith(`{"w":${entry('F33', [1], 0, 4)}}`, 4),
      /unknown or unsupported dtype "F33"/,
      'w',
    ],
    [
      'an unsupported dtype',
      fileWith(`{"w":${entry('F8_E4M3', [4], 0, 4)}}`, 4),
      /unsupported dtype "F8_E4M3"/,
      'w',
    ],
    [
      'a negative dimension',
      fileWith(`{"w":${entry('F32', [-1], 0, 4)}}`, 4),
      /shape \[-1\] is not a list of non-negative/,
      'w',
    ],
    ['a fractional dimension', fileWith(`{"w":${entry('F32', [1.5], 0, 6)}}`, 6), /shape \[1.5\]/, 'w'],
    [
      'offsets that are not a pair',
      fileWith('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', 1),
      /data_offsets \[0\] is not a pair/,
      'w',
    ],
    [
      'offsets that end before they begin',
      fileWith(`{"w":${entry('U8', [0], 4, 0)}}`, 4),
      /data_offsets \[4,0\]/,
      'w',
    ],
    [
      'shape times dtype size that differs from the byte range',
      fileWith(`{"w":${entry('F32', [3], 0, 8)}}`, 8),
      /shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] hold 8/,
      'w',
    ],
    [
      'a shape whose byte count is beyond 2^53 (counted exactly)',
      fileWith(`{"w":${entry('F64', [2 ** 30, 2 ** 30, 2 ** 30], 0, 8)}}`, 8),
      /needs 9903520314283042199192993792 bytes, but data_offsets \[0, 8\] hold 8/,
      'w',
    ],
    [
      'a header length of 2^64 - 1 (printed exactly)',
      fileWith('{}', 0, 2n ** 64n - 1n),
      /header length 18446744073709551615 is absurdly large/,
    ],
    [
      'offsets of 2^64 - 1 (printed exactly)',
      fileWith(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}`, 8),
      /needs 8 bytes, but data_offsets \[0, 18446744073709551615\] hold 18446744073709551615/,
      'w',
    ],
    [
      'a byte range of 2^64 - 1 that matches its shape',
      fileWith(
        `{"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,18446744073709551615]}}`,
        8,
      ),
      /data_offsets \[0, 18446744073709551615\] run past the end of the data section \(8 bytes\)/,
      'w',
    ],
    [
      'a dimension beyond 2^53 in an empty tensor',
      fileWith(`{"w":{"dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0]}}`),
      /shape \[0,18446744073709551615\] has the dimension 18446744073709551615, larger than 2\^53 - 1/,
      'w',
    ],
    [
      'a dimension written as a decimal',
      fileWith('{"w":{"dtype":"F32","shape":[384.0],"data_offsets":[0,1536]}}', 1536),
      /shape \[384\] is not a list of non-negative integers \(384 is written as a decimal or with an exponent\)/,
      'w',
    ],
    [
      'a dimension written with an exponent',
      fileWith('{"w":{"dtype":"U8","shape":[1e2],"data_offsets":[0,100]}}', 100),
      /shape \[100\] is not a list .*\(100 is written as a decimal or with an exponent\)/,
      'w',
    ],
    [
      'an offset written as a decimal',
      fileWith('{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4.0]}}', 4),
      /data_offsets \[0,4\] is not a pair .*\(4 is written as a decimal/,
      'w',
    ],
    [
      'a tensor name that appears twice (JSON.parse would keep the last)',
      fileWith(
        `{"w":${entry('U8', [4], 0, 4)},"v":${entry('U8', [4], 4, 8)},"w":${entry('U8', [4], 0, 4)}}`,
        8,
      ),
      /tensor "w": appears twice in the header/,
      'w',
    ],
    [
      'a field that appears twice in one entry',
      fileWith('{"w":{"dtype":"U8","shape":[4],"dtype":"F32","data_offsets":[0,4]}}', 4),
      /tensor "w": entry has "dtype" twice/,
      'w',
    ],
    [
      '__metadata__ twice',
      fileWith('{"__metadata__":{},"__metadata__":{"format":"pt"}}'),
      /: __metadata__ appears twice/,
    ],
    [
      'a metadata key twice',
      fileWith('{"__metadata__":{"format":"pt","format":"np"}}'),
      /__metadata__ has the key "format" twice/,
    ],
    [
      'nesting deep enough to overflow a recursive parser',
      fileWith(`{"w":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
      /entry nests arrays or objects more than 64 deep/,
      'w',
    ],
    [
      '__metadata__ nested deep enough to overflow a recursive parser',
      fileWith(`{"__metadata__":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`),
      /: __metadata__ nests arrays or objects more than 64 deep/,
    ],
    [
      'offsets past the data section',
      fileWith(`{"w":${entry('F32', [2], 0, 8)}}`, 4),
      /data_offsets \[0, 8\] run past the end of the data section \(4 bytes\)/,
      'w',
    ],
    [
      'overlapping tensors',
      fileWith(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [2], 4, 12)}}`, 12),
      /overlap tensor "a" \(which ends at 8\)/,
      'b',
    ],
    [
      'a gap between tensors',
      fileWith(`{"a":${entry('F32', [1], 0, 4)},"b":${entry('F32', [1], 8, 12)}}`, 12),
      /leave a gap of 4 unused bytes/,
      'b',
    ],
    ['a gap at the start', fileWith(`{"a":${entry('F32', [1], 4, 8)}}`, 8), /gap of 4/, 'a'],
    [
      'bytes after the last tensor',
      fileWith(`{"a":${entry('F32', [1], 0, 4)}}`, 12),
      /tensors cover 4 bytes, but the data section holds 12/,
    ],
  ];

  for (const [what, file, message, tensorName] of cases) {
    it(`rejects ${what}`, async () => {
      const error = await headerError(file);
      expect(error.message).toMatch(message);
      expect(error.tensorName).toBe(tensorName);
      if (tensorName) expect(error.message).toContain(`tensor "${tensorName}"`);
    });
  }
});

describe('safetensors parsing under random input', () => {
  const validHeader = `{"__metadata__":{"format":"pt"},"x.weight":${entry('BF16', [3, 2], 0, 12)},"x.bias":${entry('I64', [2], 12, 28)},"m":${entry('BOOL', [4], 28, 32)}}`;
  const valid = fileWith(validHeader, 32);

  /** Opens and reads every tensor; any failure must be a SafetensorsError. Returns whether it opened. */
  async function openAndReadAll(file: Uint8Array): Promise<boolean> {
    try {
      const opened = await SafetensorsFile.open(memoryByteSource(file), LOCATION);
      for (const name of opened.names()) await opened.readRaw(name);
      return true;
    } catch (error) {
      if (!(error instanceof SafetensorsError)) throw new Error(`not a SafetensorsError: ${String(error)}`);
      return false;
    }
  }

  it('opens the unmodified file', async () => {
    expect(await openAndReadAll(valid)).toBe(true);
  });

  it('rejects every truncated copy of a valid file', async () => {
    for (let length = 0; length < valid.length; length++) {
      expect(await openAndReadAll(valid.slice(0, length))).toBe(false);
    }
  });

  it('throws only SafetensorsError on random bytes, random header lengths and mutated headers', async () => {
    const random = new SeededRandom(2024);
    const randomInt = (n: number) => Math.floor(random.uniform() * n);
    const outcomes = { opened: 0, rejected: 0 };
    const record = (opened: boolean) => (opened ? outcomes.opened++ : outcomes.rejected++);
    for (let i = 0; i < 150; i++) {
      // Entirely random bytes.
      const noise = Uint8Array.from({ length: randomInt(64) }, () => randomInt(256));
      record(await openAndReadAll(noise));
      // A random (mostly plausible) header length in front of the valid header and data.
      const relabelled = valid.slice();
      new DataView(relabelled.buffer).setBigUint64(0, BigInt(randomInt(valid.length + 16)), true);
      record(await openAndReadAll(relabelled));
      // A valid file with a few header bytes replaced by random ones or by JSON punctuation.
      const mutated = valid.slice();
      for (let k = 0; k < 1 + randomInt(3); k++) {
        const position = 8 + randomInt(validHeader.length);
        mutated[position] =
          random.uniform() < 0.5 ? randomInt(256) : '{}[],:"0-9.e'.charCodeAt(randomInt(12));
      }
      record(await openAndReadAll(mutated));
    }
    expect(outcomes.rejected).toBeGreaterThan(300);
    expect(outcomes.opened + outcomes.rejected).toBe(450);
  });
});
