import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { FileAccessError, SafetensorsError } from '../errors.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import {
  expectNoLeak,
  makeUnusablePath,
  UNUSABLE_PATH_KINDS,
  UNUSABLE_PATH_REPORTS,
} from '../testing/index.js';
import { openSafetensors, saveSafetensors, saveSafetensorsFolder } from './node.js';
import { SafetensorsFile } from './safetensors-file.js';
import { serializeSafetensors } from './serialize.js';
import { ShardedSafetensors } from './sharded-safetensors.js';

const TINY_LLAMA = fileURLToPath(new URL('../../../../models/tiny-llama-docs', import.meta.url));
let scratch: string;

beforeAll(async () => {
  await useBackend('wasm');
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-safetensors-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Independent decode: parse the file with Buffer methods and widen each bfloat16 from its fields in float64. */
async function decodeBfloat16Tensor(
  path: string,
  name: string,
): Promise<{ shape: number[]; values: number[] }> {
  const file = await readFile(path);
  const headerLength = Number(file.readBigUInt64LE(0));
  const entry = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8'))[name];
  expect(entry.dtype).toBe('BF16');
  const start = 8 + headerLength + entry.data_offsets[0];
  const count = (entry.data_offsets[1] - entry.data_offsets[0]) / 2;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const bits = file.readUInt16LE(start + 2 * i);
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 7) & 0xff;
    const mantissa = bits & 0x7f;
    values.push(
      exponent === 0 ? sign * mantissa * 2 ** -133 : sign * (1 + mantissa / 128) * 2 ** (exponent - 127),
    );
  }
  return { shape: entry.shape, values };
}

async function rejection(promise: Promise<unknown>): Promise<SafetensorsError> {
  const error = await promise.catch((e: unknown) => e);
  if (!(error instanceof SafetensorsError))
    throw new Error(`expected a SafetensorsError, got ${String(error)}`);
  return error;
}

describe('the bundled tiny-llama-docs model (bf16, two shards)', () => {
  it('opens the folder through its index, with every tensor counted once', async () => {
    const reader = await openSafetensors(TINY_LLAMA);
    expect(reader).toBeInstanceOf(ShardedSafetensors);
    const sharded = reader as ShardedSafetensors;
    expect(sharded.location).toBe(join(TINY_LLAMA, 'model.safetensors.index.json'));
    expect([...sharded.shards.keys()]).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    const names = sharded.names();
    expect(names.every((name) => sharded.dtype(name) === 'BF16')).toBe(true);
    const total = names.reduce((sum, name) => sum + sharded.shape(name).reduce((a, b) => a * b, 1), 0);
    expect(total).toBe(6491808);
    expect(sharded.metadata.total_parameters).toBe(total);
    expect(sharded.metadata.total_size).toBe(2 * total);
  });

  it('loads bf16 tensors from both shards as exactly the float32 values of their bits', async () => {
    const sharded = (await openSafetensors(
      join(TINY_LLAMA, 'model.safetensors.index.json'),
    )) as ShardedSafetensors;
    const names = [
      'model.embed_tokens.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.5.mlp.down_proj.weight',
      'model.norm.weight',
    ];
    for (const name of names) {
      const shard = sharded.shardOf(name);
      const expected = await decodeBfloat16Tensor(shard.location, name);
      await expectNoLeak(async () => {
        const tensor = await sharded.read(name);
        expect(tensor.dtype).toBe('float32');
        expect(tensor.shape).toEqual(expected.shape);
        const actual = tensor.dataSync();
        tensor.dispose();
        for (let i = 0; i < expected.values.length; i++) {
          if (actual[i] !== expected.values[i])
            throw new Error(`${name}[${i}]: ${actual[i]} vs ${expected.values[i]}`);
        }
      });
    }
  });

  it('is a WeightSource for Module.loadWeights', async () => {
    class FinalNorm extends Module {
      readonly weight: Parameter = this.parameter('weight', [288]);
    }
    await expectNoLeak(async () => {
      const norm = new FinalNorm();
      const report = await norm.loadWeights(await openSafetensors(TINY_LLAMA), {
        mapName: (name) => (name === 'model.norm.weight' ? 'weight' : null),
      });
      expect(report.loaded).toEqual(['model.norm.weight']);
      const expected = await decodeBfloat16Tensor(
        join(TINY_LLAMA, 'model-00002-of-00002.safetensors'),
        'model.norm.weight',
      );
      expect([...norm.weight.tensor.dataSync()]).toEqual(expected.values);
      norm.dispose();
    });
  });
});

describe('saveSafetensors and saveSafetensorsFolder', () => {
  const tensors = {
    'model.a': { dtype: 'F32', shape: [10], data: new Float32Array(10).fill(0.5) },
    'model.b': { dtype: 'F32', shape: [10], data: new Float32Array(10).fill(-1) },
    'model.big': { dtype: 'F32', shape: [50], data: new Float32Array(50).fill(2) },
    'model.c': { dtype: 'BF16', shape: [20], data: new Float32Array(20).fill(3) },
  } as const;

  it('writes a file with the bytes serializeSafetensors gives, and reads it back', async () => {
    const path = join(scratch, 'single.safetensors');
    await saveSafetensors(path, tensors, { format: 'pt' });
    expect(new Uint8Array(await readFile(path))).toEqual(serializeSafetensors(tensors, { format: 'pt' }));
    const file = await openSafetensors(path);
    expect(file).toBeInstanceOf(SafetensorsFile);
    expect((file as SafetensorsFile).metadata).toEqual({ format: 'pt' });
    const tensor = await file.read('model.c');
    expect([...tensor.dataSync()]).toEqual(new Array(20).fill(3));
    tensor.dispose();
  });

  it('leaves no file behind when a value cannot be written', async () => {
    const path = join(scratch, 'failed.safetensors');
    const error = await rejection(
      saveSafetensors(path, { ok: tensors['model.a'], bad: { dtype: 'I8', shape: [1], data: [300] } }),
    );
    expect(error.message).toMatch(/tensor "bad": element 0 is 300/);
    expect(error.location).toBe(path);
    expect(await readdir(scratch)).not.toContain('failed.safetensors');
  });

  it('shards as save_pretrained does and writes an index with total_size and total_parameters', async () => {
    const folder = join(scratch, 'sharded');
    // 40 + 40 bytes fill the first shard; the 200-byte tensor is larger than a shard and goes alone.
    const saved = await saveSafetensorsFolder(folder, tensors, { maxShardBytes: 100, totalParameters: 90 });
    expect(saved.totalSize).toBe(40 + 40 + 200 + 40);
    expect((await readdir(folder)).sort()).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
      'model.safetensors.index.json',
    ]);
    const index = await readFile(join(folder, 'model.safetensors.index.json'), 'utf8');
    expect(JSON.parse(index)).toEqual({
      metadata: { total_parameters: 90, total_size: 320 },
      weight_map: {
        'model.a': 'model-00002-of-00003.safetensors',
        'model.b': 'model-00002-of-00003.safetensors',
        'model.big': 'model-00001-of-00003.safetensors',
        'model.c': 'model-00003-of-00003.safetensors',
      },
    });
    expect(index).toBe(`${JSON.stringify(JSON.parse(index), null, 2)}\n`);
    const reader = (await openSafetensors(folder)) as ShardedSafetensors;
    expect(reader.names()).toEqual(['model.a', 'model.b', 'model.big', 'model.c']);
    expect(reader.shardOf('model.a').metadata).toEqual({ format: 'pt' });
    expect([...((await reader.readRaw('model.b')).data as Float32Array)]).toEqual(new Array(10).fill(-1));
  });

  it('writes one model.safetensors and no index when everything fits in one shard', async () => {
    const folder = join(scratch, 'unsharded');
    const saved = await saveSafetensorsFolder(folder, tensors);
    expect(saved.files).toEqual([join(folder, 'model.safetensors')]);
    expect(await readdir(folder)).toEqual(['model.safetensors']);
    const reader = await openSafetensors(folder);
    expect(reader).toBeInstanceOf(SafetensorsFile);
    expect(reader.names().sort()).toEqual(Object.keys(tensors).sort());
  });
});

describe('openSafetensors rejects broken paths, folders and indexes', () => {
  const shard = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } });

  async function folderWith(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
    const folder = join(scratch, name);
    await mkdir(folder, { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(join(folder, file), content);
    return folder;
  }
  const index = (weightMap: Record<string, string>) =>
    JSON.stringify({ metadata: {}, weight_map: weightMap });

  it('a path that does not exist', async () => {
    const path = join(scratch, 'nowhere');
    const error = await rejection(openSafetensors(path));
    expect(error.message).toBe(`${path}: no such file or folder`);
  });

  it('a folder with neither an index nor model.safetensors', async () => {
    const folder = await folderWith('empty', {});
    expect((await rejection(openSafetensors(folder))).message).toMatch(
      /holds neither model\.safetensors\.index\.json nor model\.safetensors/,
    );
  });

  it('an index naming a missing shard', async () => {
    const folder = await folderWith('missing-shard', {
      'model.safetensors.index.json': index({ w: 'model-00001-of-00002.safetensors' }),
    });
    const error = await rejection(openSafetensors(folder));
    expect(error.location).toBe(join(folder, 'model.safetensors.index.json'));
    expect(error.message).toMatch(/names shard "model-00001-of-00002\.safetensors", which is missing/);
  });

  it('an index putting a tensor in a shard that does not hold it', async () => {
    const folder = await folderWith('wrong-shard', {
      'model.safetensors.index.json': index({ w: 'a.safetensors', v: 'a.safetensors' }),
      'a.safetensors': shard,
    });
    const error = await rejection(openSafetensors(folder));
    expect(error.tensorName).toBe('v');
    expect(error.message).toMatch(
      /tensor "v": the index puts it in .*a\.safetensors, which does not hold it/,
    );
  });

  it('an index listing a tensor twice (JSON.parse would keep the last)', async () => {
    const folder = await folderWith('twice', {
      'model.safetensors.index.json': '{"weight_map": {"w": "a.safetensors", "w": "b.safetensors"}}',
      'a.safetensors': shard,
      'b.safetensors': shard,
    });
    const error = await rejection(openSafetensors(folder));
    expect(error.message).toBe(
      `${join(folder, 'model.safetensors.index.json')}: tensor "w": appears twice in the weight_map`,
    );
  });

  it('an index that is not JSON, has no weight_map, or maps a tensor to a non-string', async () => {
    const cases: [string, RegExp][] = [
      ['{"weight_map": ', /shard index is not valid JSON/],
      ['{"metadata": {}}', /shard index has no "weight_map" object/],
      ['[]', /shard index is an array, not a JSON object/],
      ['null', /shard index is null, not a JSON object/],
      ['{"weight_map": {"w": 3}}', /tensor "w": the weight_map entry a number \(3\) is not a file name/],
      ['{"weight_map": {"w": ""}}', /tensor "w": the weight_map entry a string \(""\) is not a file name/],
      ['{"weight_map": {"w": "."}}', /tensor "w": the weight_map entry a string \("\."\) is not a file name/],
      ['{"weight_map": {"w": "../m.safetensors"}}', /tensor "w": the weight_map entry .* is not a file name/],
      [
        '{"weight_map": {"w": {"a": [[[1]]]}}}',
        /tensor "w": the weight_map entry an object is not a file name/,
      ],
      ['{"metadata": 1, "weight_map": {}}', /the index "metadata" is not an object/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const folder = await folderWith(`bad-index-${i}`, { 'model.safetensors.index.json': text });
      expect((await rejection(openSafetensors(folder))).message).toMatch(message);
    }
  });

  it('a truncated file on disk, and a file that shrinks after it was opened', async () => {
    const folder = await folderWith('truncated', {
      'model.safetensors': shard.subarray(0, shard.length - 3),
    });
    const error = await rejection(openSafetensors(folder));
    expect(error.location).toBe(join(folder, 'model.safetensors'));
    expect(error.message).toMatch(/tensor "w": data_offsets \[0, 8\] run past the end of the data section/);

    const path = join(folder, 'shrinks.safetensors');
    await writeFile(path, shard);
    const file = await openSafetensors(path);
    await truncate(path, shard.length - 4);
    const readError = await rejection(file.read('w'));
    expect(readError.message).toMatch(/tensor "w": file ended early: read 4 of 8 bytes/);
  });
});

describe.each(UNUSABLE_PATH_KINDS)('openSafetensors on a %s', (kind) => {
  const { found, message } = UNUSABLE_PATH_REPORTS[kind];
  const shard = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } });
  const place = async (folder: string, name: string, skip: (why: string) => void) => {
    await mkdir(folder, { recursive: true });
    if (!(await makeUnusablePath(join(folder, name), kind))) skip(`this system cannot make a ${kind}`);
    return join(folder, name);
  };
  const expectReported = async (opening: Promise<unknown>, path: string) => {
    const error = await opening.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileAccessError);
    expect((error as FileAccessError).found).toBe(found);
    expect((error as FileAccessError).path).toBe(path);
    expect((error as Error).message).toMatch(message);
  };

  it('as model.safetensors of a folder: says what it is (not "holds neither")', async ({ skip }) => {
    const folder = join(scratch, `single-${kind.replaceAll(/\W/g, '-')}`);
    const path = await place(folder, 'model.safetensors', skip);
    await expectReported(openSafetensors(folder), path);
    // Named directly, a directory is a folder to look in; anything else is named by what it is.
    if (kind !== 'directory') await expectReported(openSafetensors(path), path);
  });

  it('as the shard index, and as a shard the index names', async ({ skip }) => {
    const indexFolder = join(scratch, `index-${kind.replaceAll(/\W/g, '-')}`);
    const indexPath = await place(indexFolder, 'model.safetensors.index.json', skip);
    await expectReported(openSafetensors(indexFolder), indexPath);

    const shardFolder = join(scratch, `shard-${kind.replaceAll(/\W/g, '-')}`);
    const shardPath = await place(shardFolder, 'b.safetensors', skip);
    await writeFile(join(shardFolder, 'a.safetensors'), shard);
    await writeFile(
      join(shardFolder, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { w: 'a.safetensors', v: 'b.safetensors' } }),
    );
    await expectReported(openSafetensors(shardFolder), shardPath);
  });
});
