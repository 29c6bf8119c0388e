// Node-only file access. node:fs and node:path are imported on first use, so importing
// @tsformer/core-tensor in a browser never touches them.

import { loadFileSystem, loadPath } from '#node-builtins';
import { SafetensorsError } from '../errors.js';
import {
  fileSystemError,
  inspectPath,
  openRegularFile,
  readTextFile,
  requireRegularFile,
} from '../node-files.js';
import type { ByteSource } from './byte-source.js';
import { SafetensorsFile } from './safetensors-file.js';
import {
  compareCodePoints,
  layoutSafetensors,
  type PlannedTensor,
  planTensor,
  type SafetensorsInput,
} from './serialize.js';
import { SAFETENSORS_INDEX_NAME, ShardedSafetensors } from './sharded-safetensors.js';

const SINGLE_FILE_NAME = 'model.safetensors';

/** The default shard size limit of Hugging Face's `save_pretrained` ("5GB"). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/**
 * A ByteSource over a regular file on disk (a FileAccessError says what the path is otherwise).
 * Each read opens the file, reads the range at its offset and closes it again, so a source (and a
 * WeightSource built on it) holds no file handle.
 */
export async function fileByteSource(path: string): Promise<ByteSource> {
  const size = await requireRegularFile(path);
  return {
    size,
    async read(offset, length) {
      const bytes = new Uint8Array(length);
      const handle = await openRegularFile(path);
      try {
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
          if (bytesRead === 0) return bytes.subarray(0, filled);
          filled += bytesRead;
        }
        return bytes;
      } catch (error) {
        throw fileSystemError(path, error);
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * Opens a `.safetensors` file, a `model.safetensors.index.json`, or a model folder holding either
 * (the index wins when both are there). Only headers are read here; tensors are read on demand.
 * A path (or a file in the folder) that is not a regular file is a FileAccessError saying what it is.
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile | ShardedSafetensors> {
  const { join } = await loadPath();
  const info = await inspectPath(path);
  if (info.kind === 'missing') throw new SafetensorsError(path, 'no such file or folder');
  if (info.kind !== 'directory') {
    return path.endsWith('.index.json') ? openShardIndex(path) : openSafetensorsFile(path);
  }
  const indexPath = join(path, SAFETENSORS_INDEX_NAME);
  if ((await inspectPath(indexPath)).kind !== 'missing') return openShardIndex(indexPath);
  const singlePath = join(path, SINGLE_FILE_NAME);
  if ((await inspectPath(singlePath)).kind !== 'missing') return openSafetensorsFile(singlePath);
  throw new SafetensorsError(path, `folder holds neither ${SAFETENSORS_INDEX_NAME} nor ${SINGLE_FILE_NAME}`);
}

async function openSafetensorsFile(path: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(await fileByteSource(path), path);
}

async function openShardIndex(indexPath: string): Promise<ShardedSafetensors> {
  const { dirname, join } = await loadPath();
  return ShardedSafetensors.open(indexPath, await readTextFile(indexPath), async (fileName) => {
    const shardPath = join(dirname(indexPath), fileName);
    if ((await inspectPath(shardPath)).kind === 'missing') {
      throw new SafetensorsError(indexPath, `the index names shard "${fileName}", which is missing`);
    }
    return openSafetensorsFile(shardPath);
  });
}

/**
 * Writes tensors (and optional `__metadata__`) to a safetensors file, the same bytes as
 * `serializeSafetensors`, encoding one tensor at a time. A failed write leaves no file behind.
 */
export async function saveSafetensors(
  path: string,
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const planned = Object.entries(tensors).map(([name, input]) => planTensor(name, input, path));
  await writeSafetensorsFile(path, planned, metadata);
}

async function writeSafetensorsFile(
  path: string,
  tensors: readonly PlannedTensor[],
  metadata: Readonly<Record<string, string>> | undefined,
): Promise<void> {
  const { open, rm } = await loadFileSystem();
  const layout = layoutSafetensors(tensors, metadata, path);
  const handle = await open(path, 'w');
  try {
    await handle.write(layout.header);
    for (const tensor of layout.tensors) await handle.write(await tensor.encodeAsync());
    await handle.close();
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
}

export interface SaveSafetensorsFolderOptions {
  /** Largest shard in bytes of tensor data (default 5 GB, as `save_pretrained`). */
  maxShardBytes?: number;
  /** Each file's `__metadata__` (default `{ format: 'pt' }`, which Hugging Face transformers expects). */
  metadata?: Readonly<Record<string, string>>;
  /** Recorded as `metadata.total_parameters` in the index when given. */
  totalParameters?: number;
}

export interface SavedSafetensorsFolder {
  /** The files written, in order: shards, then the index when there is one. */
  files: string[];
  /** Bytes of tensor data over all shards (the index's `total_size`). */
  totalSize: number;
}

/**
 * Writes the weights of a model folder as Hugging Face's `save_pretrained` does: tensors go to
 * shards in the order given, a new shard starting whenever the next tensor would push the current
 * one past `maxShardBytes` (a tensor larger than that gets a shard of its own). One shard is written as `model.safetensors`; several as
 * `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json` (`metadata.total_size`,
 * `metadata.total_parameters` when given, and the `weight_map`, keys sorted).
 */
export async function saveSafetensorsFolder(
  folder: string,
  tensors: Readonly<Record<string, SafetensorsInput>>,
  options: SaveSafetensorsFolderOptions = {},
): Promise<SavedSafetensorsFolder> {
  const { maxShardBytes = DEFAULT_MAX_SHARD_BYTES, metadata = { format: 'pt' }, totalParameters } = options;
  if (!(maxShardBytes > 0))
    throw new SafetensorsError(folder, `maxShardBytes must be positive, got ${maxShardBytes}`);
  const { mkdir, writeFile } = await loadFileSystem();
  const { join } = await loadPath();
  const planned = Object.entries(tensors).map(([name, input]) => planTensor(name, input, folder));
  const shards = splitIntoShards(planned, maxShardBytes);
  const totalSize = planned.reduce((total, tensor) => total + tensor.byteLength, 0);
  await mkdir(folder, { recursive: true });

  if (shards.length <= 1) {
    const path = join(folder, SINGLE_FILE_NAME);
    await writeSafetensorsFile(path, shards[0] ?? [], metadata);
    return { files: [path], totalSize };
  }
  const files: string[] = [];
  const weightMap: [string, string][] = [];
  for (const [i, shard] of shards.entries()) {
    const fileName = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const path = join(folder, fileName);
    await writeSafetensorsFile(path, shard, metadata);
    files.push(path);
    for (const tensor of shard) weightMap.push([tensor.name, fileName]);
  }
  const indexMetadata: [string, number][] = [];
  if (totalParameters !== undefined) indexMetadata.push(['total_parameters', totalParameters]);
  indexMetadata.push(['total_size', totalSize]);
  weightMap.sort(([a], [b]) => compareCodePoints(a, b));
  const indexPath = join(folder, SAFETENSORS_INDEX_NAME);
  await writeFile(indexPath, formatIndex(indexMetadata, weightMap));
  files.push(indexPath);
  return { files, totalSize };
}

function splitIntoShards(tensors: readonly PlannedTensor[], maxShardBytes: number): PlannedTensor[][] {
  const shards: PlannedTensor[][] = [];
  let current: PlannedTensor[] = [];
  let currentBytes = 0;
  for (const tensor of tensors) {
    if (tensor.byteLength > maxShardBytes) {
      shards.push([tensor]);
      continue;
    }
    if (currentBytes + tensor.byteLength > maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(tensor);
    currentBytes += tensor.byteLength;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** The index as Python's `json.dumps(index, indent=2, sort_keys=True)` lays it out, plus a final newline. */
function formatIndex(metadata: readonly [string, number][], weightMap: readonly [string, string][]): string {
  const block = (entries: readonly (readonly [string, string | number])[]) =>
    entries.map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n');
  return `{\n  "metadata": {\n${block(metadata)}\n  },\n  "weight_map": {\n${block(weightMap)}\n  }\n}\n`;
}
