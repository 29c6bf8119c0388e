// Mutations of one safetensors file: its bytes (truncation, appended bytes, bit flips in the header
// length, flipped weights), its header as text (not JSON, not an object, deep nesting, duplicates,
// holes, overlaps, floats and huge numbers where integers belong, wrong dtypes, shapes that do not
// match the byte ranges) and valid variants written by the project's own writer.
import {
  openSafetensorsBytes,
  type SafetensorsInput,
  type SafetensorsTensorData,
  serializeSafetensors,
} from '@tsformer/core-tensor';
import {
  accept,
  contents,
  type Expectation,
  either,
  everyCommand,
  type FileBytes,
  type Mutation,
  mutation,
  type Naming,
  readerLevel,
  reject,
} from './corpus-case.js';
import { DEEP_NESTING, nestedArrays, nestedObjects } from './json-file-mutations.js';
import {
  assemble,
  DTYPE_BYTES,
  entryText,
  headerFromEntries,
  originalEntries,
  type SafetensorsParts,
  type StoredTensor,
  takeApart,
} from './safetensors-text.js';
import type { SeededDraws } from './seeded-draws.js';

/** Any weight file or the shard index: weight-loading errors name the index of a sharded folder. */
const WEIGHTS_FILE = /\.safetensors/;

/**
 * Mutations of the safetensors file `file` whose fixture bytes are `bytes`. `thorough`: every bit of
 * the header length flipped, two tensors' entries mutated; else twelve bits and one tensor.
 */
export function safetensorsMutations(
  file: string,
  bytes: Uint8Array,
  draws: SeededDraws,
  thorough: boolean,
): Mutation[] {
  const parts = takeApart(bytes);
  const chosen = chooseTensors(parts, draws).slice(0, thorough ? 2 : 1);
  const allBits = Array.from({ length: 64 }, (_, bit) => bit);
  // Not thorough: the low byte (lengths near the true one, cutting or overrunning the JSON) and four more.
  const lengthBits = thorough
    ? allBits
    : [...allBits.slice(0, 8), ...draws.pick(allBits.slice(8), 4).sort((a, b) => a - b)];
  const readerMutations = [
    ...byteMutations(file, bytes, parts, draws, lengthBits),
    ...headerTextMutations(file, parts),
    ...chosen.flatMap((tensor) => tensorEntryMutations(file, parts, tensor)),
  ].map(readerLevel);
  return [
    ...readerMutations,
    ...layoutMutations(file, parts, chosen[0]!),
    ...writerMutations(file, bytes, chosen[0]!),
  ].map((m) => (judgedByTheModel(m) ? everyCommand(m) : m));
}

/** A valid file whose tensors the model does not take: loading and inspect --model judge it apart. */
function judgedByTheModel(mutation: Mutation): boolean {
  const expect = typeof mutation.expect === 'function' ? mutation.expect('generate') : mutation.expect;
  return expect.outcome !== 'accept' && expect.names[0] === WEIGHTS_FILE;
}

/** Two tensors to mutate one by one: a 2-D one (for transposes) and one more, drawn by the seed. */
function chooseTensors(parts: SafetensorsParts, draws: SeededDraws): StoredTensor[] {
  const matrices = parts.tensors.filter((t) => t.shape.length === 2 && t.shape[0] !== t.shape[1]);
  const matrix = draws.pick(matrices, 1)[0] ?? parts.tensors[0]!;
  const other = draws.pick(
    parts.tensors.filter((t) => t !== matrix),
    1,
  );
  return [matrix, ...other];
}

function byteMutations(
  file: string,
  bytes: Uint8Array,
  parts: SafetensorsParts,
  draws: SeededDraws,
  lengthBits: readonly number[],
): Mutation[] {
  const { headerLength, fileSize, data } = parts;
  const mutations: Mutation[] = [];
  const cuts = [
    0,
    1,
    7,
    8,
    9,
    8 + (headerLength >> 1),
    8 + headerLength - 1,
    8 + headerLength,
    8 + headerLength + 1,
  ];
  cuts.push(8 + headerLength + (data.length >> 1), fileSize - 1);
  for (const cut of [...new Set(cuts)].filter((n) => n < fileSize).sort((a, b) => a - b)) {
    mutations.push(
      mutation(
        file,
        `truncated to ${cut} bytes`,
        contents(() => bytes.subarray(0, cut)),
        reject(file),
      ),
    );
  }
  const appended = (label: string, extra: () => Uint8Array) =>
    mutation(
      file,
      label,
      contents(() => [bytes, extra()]),
      reject(file),
    );
  mutations.push(
    appended('one byte appended', () => new Uint8Array([0])),
    appended('8 zero bytes appended', () => new Uint8Array(8)),
    appended('its data section appended again', () => data),
  );
  // Bits of the 8-byte header length, flipped one at a time.
  for (const bit of lengthBits) {
    mutations.push(
      mutation(
        file,
        `header length bit ${bit} flipped`,
        contents(() => {
          const copy = bytes.slice(0, 8);
          copy[bit >> 3]! ^= 1 << (bit & 7);
          return [copy, bytes.subarray(8)];
        }),
        reject(file),
      ),
    );
  }
  const declared = (value: bigint, label: string) =>
    mutation(
      file,
      `header length set to ${label}`,
      contents(() => {
        const head = new Uint8Array(8);
        new DataView(head.buffer).setBigUint64(0, value, true);
        return [head, bytes.subarray(8)];
      }),
      reject(file),
    );
  mutations.push(
    declared(0n, '0'),
    declared(2n, '2'),
    declared(BigInt(fileSize - 8), 'the rest of the file'),
    declared(BigInt(fileSize), 'the file size'),
    declared(2n ** 53n - 1n, '2^53 - 1'),
    declared(2n ** 64n - 1n, '2^64 - 1'),
  );
  // Flipped weight bits and special values leave a valid file: the model loads, and its output changes.
  for (const offset of draws.pick(
    Array.from({ length: 64 }, (_, i) => Math.floor(((i + 0.5) * data.length) / 64)),
    3,
  )) {
    mutations.push(
      mutation(
        file,
        `data byte ${offset} bit 6 flipped`,
        contents(() => {
          const copy = data.slice();
          copy[offset]! ^= 0x40;
          return [bytes.subarray(0, 8 + headerLength), copy];
        }),
        accept('any'),
      ),
    );
  }
  mutations.push(
    mutation(
      file,
      'every data byte 0xff (NaN weights)',
      contents(() => [bytes.subarray(0, 8 + headerLength), new Uint8Array(data.length).fill(0xff)]),
      either('any', file),
    ),
    mutation(
      file,
      'every data byte zero',
      contents(() => [bytes.subarray(0, 8 + headerLength), new Uint8Array(data.length)]),
      accept('any'),
    ),
  );
  return mutations;
}

function headerTextMutations(file: string, parts: SafetensorsParts): Mutation[] {
  const withHeader = (
    label: string,
    header: () => string | Uint8Array,
    expect: Expectation,
    padding?: string,
  ) =>
    mutation(
      file,
      label,
      contents(() => assemble(header(), parts.data, padding === undefined ? {} : { padding })),
      expect,
    );
  const original = parts.headerText;
  const entries = originalEntries(parts);
  const metadata = (label: string, value: string, expect: Expectation) =>
    withHeader(
      `__metadata__ ${label}`,
      () =>
        headerFromEntries([['__metadata__', value], ...entries.filter(([name]) => name !== '__metadata__')]),
      expect,
    );
  return [
    withHeader('header is not JSON', () => 'this is not JSON', reject(file)),
    withHeader('header is JSON cut in half', () => original.slice(0, original.length >> 1), reject(file)),
    withHeader('header is an empty string', () => '', reject(file), ''),
    withHeader('header is a JSON array', () => '[]', reject(file)),
    withHeader('header is an array holding the header', () => `[${original}]`, reject(file)),
    withHeader('header is JSON null', () => 'null', reject(file)),
    withHeader('header is a JSON number', () => '42', reject(file)),
    withHeader('header is a JSON string', () => '"F32"', reject(file)),
    withHeader('header is an empty object', () => '{}', reject(file)),
    withHeader(`header is ${DEEP_NESTING} nested arrays`, () => nestedArrays(), reject(file)),
    withHeader(`header is ${DEEP_NESTING} nested objects`, () => nestedObjects(), reject(file)),
    withHeader(
      'header holds invalid UTF-8',
      () => {
        const text = new TextEncoder().encode(original);
        const copy = text.slice();
        copy[text.indexOf(0x22) + 1] = 0xff; // the first character of the first key
        return copy;
      },
      reject(file),
    ),
    withHeader('header padded with NUL bytes', () => original, either('baseline', file), '\0'),
    withHeader('header not padded to a multiple of 8', () => original, either('baseline', file), ''),
    withHeader('header begins with a byte-order mark', () => `\ufeff${original}`, either('baseline', file)),
    withHeader('header begins with a newline and spaces', () => `\n  ${original}`, accept()),
    withHeader('header entries in reverse order', () => headerFromEntries([...entries].reverse()), accept()),
    withHeader(
      'an unknown field in every entry',
      () =>
        headerFromEntries(
          parts.tensors.map((tensor) => [tensor.name, entryText(tensor, { extra: ',"corpus_note":"x"' })]),
        ),
      either('baseline', file),
    ),
    metadata('{"format":"pt"}', '{"format":"pt"}', accept()),
    metadata('null', 'null', either('baseline', file)),
    metadata('with a number value', '{"format":1}', reject(file, '__metadata__')),
    metadata('a JSON array', '[]', reject(file, '__metadata__')),
    metadata('a string', '"pt"', reject(file, '__metadata__')),
    metadata('with a nested object value', '{"format":{"a":"b"}}', reject(file, '__metadata__')),
    metadata(`nested ${DEEP_NESTING} objects deep`, nestedObjects(), reject(file, '__metadata__')),
  ];
}

/** Mutations of one tensor's entry; the error names the file and the tensor. */
function tensorEntryMutations(file: string, parts: SafetensorsParts, tensor: StoredTensor): Mutation[] {
  const { name, dtype, shape, begin, end } = tensor;
  const others = parts.tensors.filter((t) => t !== tensor);
  const rewrite = (label: string, entry: string, expect: Expectation = reject(file, name)) =>
    mutation(
      file,
      `tensor "${name}" ${label}`,
      contents(() =>
        assemble(
          headerFromEntries(
            originalEntries(parts).map(([key, value]) => [key, key === name ? entry : value]),
          ),
          parts.data,
        ),
      ),
      expect,
    );
  const field = (label: string, changes: Parameters<typeof entryText>[1], expect?: Expectation) =>
    rewrite(label, entryText(tensor, changes), expect);
  const mutations: Mutation[] = [];

  const elements = shape.reduce((a, b) => a * b, 1);
  for (const other of Object.keys(DTYPE_BYTES).filter((d) => d !== dtype)) {
    // Same element width: the header is consistent, the values are read as another type.
    const sameBytes = DTYPE_BYTES[other] === DTYPE_BYTES[dtype];
    mutations.push(
      field(
        `dtype ${other}`,
        { dtype: JSON.stringify(other) },
        sameBytes ? either('any', file, name) : undefined,
      ),
    );
  }
  for (const [label, text] of [
    ['dtype F8_E4M3 (a real dtype the reader lacks)', '"F8_E4M3"'],
    ['dtype Q4_0 (not a safetensors dtype)', '"Q4_0"'],
    ['dtype in lowercase', JSON.stringify(dtype.toLowerCase())],
    ['dtype a number', '32'],
    ['dtype null', 'null'],
    [`dtype nested ${DEEP_NESTING} objects deep`, nestedObjects()],
  ] as const) {
    mutations.push(field(label, { dtype: text }));
  }
  if (shape.length === 2 && shape[0] !== shape[1]) {
    // The byte count still matches: only the model can tell the layout is wrong.
    mutations.push(
      field('shape transposed', { shape: JSON.stringify([shape[1], shape[0]]) }, reject(WEIGHTS_FILE, name)),
    );
  }
  const first = shape[0] ?? 1;
  const rest = shape.slice(1);
  mutations.push(
    field('shape with a trailing 1', { shape: JSON.stringify([...shape, 1]) }, reject(WEIGHTS_FILE, name)),
    field('shape with a leading 1', { shape: JSON.stringify([1, ...shape]) }, reject(WEIGHTS_FILE, name)),
    field('shape first dimension + 1', { shape: JSON.stringify([first + 1, ...rest]) }),
    field(`shape with its first dimension written ${first}.0`, {
      shape: `[${[`${first}.0`, ...rest].join(',')}]`,
    }),
    field('shape with a fraction', { shape: JSON.stringify([first + 0.5, ...rest]) }),
    field('shape with a negative dimension', { shape: JSON.stringify([-first, ...rest]) }),
    field('shape with a string dimension', { shape: JSON.stringify([String(first), ...rest]) }),
    field('shape with a dimension of 1e20', { shape: `[${['1e20', ...rest].join(',')}]` }),
    field('shape with a dimension of 2^53', { shape: JSON.stringify([2 ** 53, ...rest]) }),
    field('shape whose product overflows', { shape: JSON.stringify([2 ** 26, 2 ** 26, 2 ** 26]) }),
    field('shape nested in a list', { shape: JSON.stringify([shape]) }),
    field('shape a string', { shape: JSON.stringify(shape.join('x')) }),
    field(`shape nested ${DEEP_NESTING} arrays deep`, { shape: nestedArrays() }),
    field('shape missing', { shape: undefined }),
    field('shape null', { shape: 'null' }),
  );
  if (elements !== 1) mutations.push(field('shape empty (a scalar)', { shape: '[]' }));

  const offsets = (label: string, text: string | undefined, expect?: Expectation) =>
    field(`data_offsets ${label}`, { data_offsets: text }, expect);
  const dataLength = parts.data.length;
  mutations.push(
    offsets('end + 1', JSON.stringify([begin, end + 1])),
    offsets('begin + 1', JSON.stringify([begin + 1, end])),
    offsets('reversed', JSON.stringify([end, begin])),
    offsets(`written as floats [${begin}.0, ${end}.0]`, `[${begin}.0,${end}.0]`),
    offsets('as strings', JSON.stringify([String(begin), String(end)])),
    offsets('with a negative begin', JSON.stringify([-1, end])),
    offsets('with three numbers', JSON.stringify([begin, end, end])),
    offsets('missing', undefined),
    offsets('null', 'null'),
    offsets('of 1e300', `[1e300,${end}]`),
    offsets(`nested ${DEEP_NESTING} arrays deep`, nestedArrays()),
    // Consistent with the shape, but outside the data section, or over another tensor: the layout check's.
    offsets(
      'moved past the end of the data',
      JSON.stringify([begin + dataLength, end + dataLength]),
      reject(file),
    ),
    offsets('moved to 2^53', JSON.stringify([2 ** 53, 2 ** 53 + end - begin]), reject(file)),
    offsets(
      'shifted by one element',
      JSON.stringify([begin + bytesOf(dtype), end + bytesOf(dtype)]),
      reject(file),
    ),
  );

  for (const [label, text] of [
    ['a number', '42'],
    ['null', 'null'],
    ['a list', JSON.stringify([dtype, shape, [begin, end]])],
    ['an empty object', '{}'],
  ] as const) {
    mutations.push(rewrite(`entry is ${label}`, text));
  }

  const renamed = (label: string, newName: string, expect: Expectation) =>
    mutation(
      file,
      `tensor "${name}" ${label}`,
      contents(() =>
        assemble(
          headerFromEntries(
            originalEntries(parts).map(([key, value]) => [key === name ? newName : key, value]),
          ),
          parts.data,
        ),
      ),
      expect,
    );
  mutations.push(
    renamed('renamed with a suffix', `${name}.renamed`, reject(WEIGHTS_FILE, name)),
    renamed('renamed to an empty string', '', reject(WEIGHTS_FILE, name)),
    renamed('renamed to 10,000 characters', 'x'.repeat(10_000), reject(WEIGHTS_FILE, name)),
    renamed('renamed to __metadata__', '__metadata__', reject(file)),
  );

  const twin = others.find((t) => t.end - t.begin === end - begin);
  const duplicated = (label: string, entries: () => [string, string][]) =>
    mutation(
      file,
      `tensor "${name}" ${label}`,
      contents(() => assemble(headerFromEntries(entries()), parts.data)),
      reject(file, name),
    );
  mutations.push(
    duplicated('listed twice, identically', () => [...originalEntries(parts), [name, entryText(tensor)]]),
    duplicated('listed twice, first with garbage offsets (JSON.parse keeps the last)', () => [
      [name, entryText(tensor, { data_offsets: '[0,1]' })],
      ...originalEntries(parts),
    ]),
  );
  if (twin) {
    mutations.push(
      duplicated(`listed twice, the second over "${twin.name}"'s bytes`, () => [
        ...originalEntries(parts),
        [name, entryText(tensor, { data_offsets: JSON.stringify([twin.begin, twin.end]) })],
      ]),
      rewrite(
        `over "${twin.name}"'s bytes (an overlap and a hole)`,
        entryText(tensor, { data_offsets: JSON.stringify([twin.begin, twin.end]) }),
        reject(file),
      ),
    );
  }
  return mutations;
}

/** Tensors left out of the header: their bytes become a hole. */
function layoutMutations(file: string, parts: SafetensorsParts, tensor: StoredTensor): Mutation[] {
  const without = (label: string, keep: (t: StoredTensor) => boolean, expect: Expectation) =>
    mutation(
      file,
      label,
      contents(() =>
        assemble(
          headerFromEntries(
            originalEntries(parts).filter(
              ([key]) => key === '__metadata__' || keep(parts.tensors.find((t) => t.name === key)!),
            ),
          ),
          parts.data,
        ),
      ),
      expect,
    );
  const last = parts.tensors.reduce((a, b) => (b.end > a.end ? b : a));
  return [
    without(`tensor "${tensor.name}" left out of the header (a hole)`, (t) => t !== tensor, reject(file)),
    without(
      `last tensor "${last.name}" left out of the header (bytes at the end)`,
      (t) => t !== last,
      reject(file),
    ),
    without('every tensor left out of the header', () => false, reject(file)),
  ];
}

/** Valid files written by the project's writer: equal, richer, or different from what the model needs. */
function writerMutations(file: string, bytes: Uint8Array, tensor: StoredTensor): Mutation[] {
  const rewritten = (
    label: string,
    change: (tensors: Record<string, SafetensorsInput>) => void,
    expect: Mutation['expect'],
    metadata?: Record<string, string>,
  ) =>
    mutation(
      file,
      `rewritten by the writer, ${label}`,
      contents(() => serializeWith(bytes, change, metadata)),
      expect,
    );
  const names: Naming[] = [WEIGHTS_FILE, tensor.name];
  return [
    rewritten('unchanged', () => {}, accept()),
    rewritten('with __metadata__ {"format":"pt"}', () => {}, accept(), { format: 'pt' }),
    rewritten(`without "${tensor.name}"`, (tensors) => delete tensors[tensor.name], reject(...names)),
    // A tensor the model lacks: refused, or ignored (as transformers does); inspect lists its bytes.
    rewritten(
      'with an extra tensor "corpus.extra"',
      (tensors) => {
        tensors['corpus.extra'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
      },
      (command) => either(command === 'generate' ? 'baseline' : 'any', WEIGHTS_FILE, 'corpus.extra'),
    ),
    rewritten(
      `"${tensor.name}" stored as F64`,
      (tensors) => {
        const raw = tensors[tensor.name] as SafetensorsTensorData;
        tensors[tensor.name] = { dtype: 'F64', shape: raw.shape, data: Float64Array.from(floatValues(raw)) };
      },
      either('any', WEIGHTS_FILE, tensor.name),
    ),
    rewritten(
      `"${tensor.name}" stored as I32`,
      (tensors) => {
        const raw = tensors[tensor.name] as SafetensorsTensorData;
        tensors[tensor.name] = {
          dtype: 'I32',
          shape: raw.shape,
          data: Int32Array.from(floatValues(raw), Math.round),
        };
      },
      either('any', WEIGHTS_FILE, tensor.name),
    ),
    rewritten(
      `"${tensor.name}" as a flat vector`,
      (tensors) => {
        const raw = tensors[tensor.name] as SafetensorsTensorData;
        tensors[tensor.name] = { ...raw, shape: [raw.data.length] };
      },
      tensor.shape.length === 1 ? accept() : reject(...names),
    ),
  ];
}

async function serializeWith(
  bytes: Uint8Array,
  change: (tensors: Record<string, SafetensorsInput>) => void,
  metadata?: Record<string, string>,
): Promise<FileBytes> {
  const file = await openSafetensorsBytes(bytes);
  const tensors: Record<string, SafetensorsInput> = {};
  for (const name of file.names()) tensors[name] = await file.readRaw(name);
  change(tensors);
  return serializeSafetensors(tensors, metadata);
}

/** A tensor's values as numbers (F16 and BF16 are stored as bit patterns). */
function floatValues(raw: SafetensorsTensorData): number[] {
  const values = Array.from(raw.data as ArrayLike<number>);
  if (raw.dtype === 'BF16')
    return values.map((bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!);
  if (raw.dtype === 'F16') return values.map(float16Value);
  return values;
}

function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bytesOf(dtype: string): number {
  return DTYPE_BYTES[dtype] ?? 1;
}
