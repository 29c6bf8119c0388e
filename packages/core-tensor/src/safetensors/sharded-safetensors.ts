import type * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from '../errors.js';
import type { RawTensor } from './decode.js';
import type { SafetensorsDtype } from './dtypes.js';
import { parseExactJson } from './exact-json.js';
import { describeJson, isPlainObject } from './header.js';
import type { SafetensorsFile } from './safetensors-file.js';
import type { SafetensorsReader } from './safetensors-reader.js';

/** The conventional name of a shard index in a Hugging Face model folder. */
export const SAFETENSORS_INDEX_NAME = 'model.safetensors.index.json';

/**
 * A checkpoint split over several safetensors files by an index
 * (`model.safetensors.index.json`: `{"metadata": {...}, "weight_map": {tensor: file}}`).
 */
export class ShardedSafetensors implements SafetensorsReader {
  private constructor(
    readonly location: string,
    /** The index's `metadata` (`total_size`, often `total_parameters`). */
    readonly metadata: Readonly<Record<string, unknown>>,
    private readonly weightMap: ReadonlyMap<string, SafetensorsFile>,
    /** Every shard, by the file name the index gives it. */
    readonly shards: ReadonlyMap<string, SafetensorsFile>,
  ) {}

  /**
   * Validates an index read from `location` (its text, or the JSON already parsed), opens every
   * shard it names through `openShard` (given the file name from the index) and checks that each
   * tensor is in its shard. From text, a tensor listed twice in the weight_map is an error too.
   */
  static async open(
    location: string,
    indexJson: unknown,
    openShard: (fileName: string) => Promise<SafetensorsFile>,
  ): Promise<ShardedSafetensors> {
    const index = typeof indexJson === 'string' ? parseIndex(indexJson, location) : indexJson;
    if (!isPlainObject(index)) {
      throw new SafetensorsError(location, `shard index is ${describeJson(index)}, not a JSON object`);
    }
    const { metadata = {}, weight_map: weightMap } = index;
    if (!isPlainObject(metadata))
      throw new SafetensorsError(location, 'the index "metadata" is not an object');
    if (!isPlainObject(weightMap))
      throw new SafetensorsError(location, 'shard index has no "weight_map" object');
    const entries = Object.entries(weightMap);
    for (const [name, fileName] of entries) {
      if (!isShardFileName(fileName)) {
        throw new SafetensorsError(
          location,
          `the weight_map entry ${describeJson(fileName)} is not a file name in the folder`,
          name,
        );
      }
    }
    const fileNames = [...new Set(entries.map(([, fileName]) => fileName as string))];
    const shards = new Map<string, SafetensorsFile>();
    for (const fileName of fileNames) shards.set(fileName, await openShard(fileName));
    const byTensor = new Map<string, SafetensorsFile>();
    for (const [name, fileName] of entries) {
      const shard = shards.get(fileName as string)!;
      if (!shard.has(name)) {
        throw new SafetensorsError(
          location,
          `the index puts it in ${shard.location}, which does not hold it`,
          name,
        );
      }
      byTensor.set(name, shard);
    }
    return new ShardedSafetensors(location, metadata, byTensor, shards);
  }

  /** Tensor names in the order of the index's weight_map. */
  names(): string[] {
    return [...this.weightMap.keys()];
  }

  /** The shard that holds `name`. */
  shardOf(name: string): SafetensorsFile {
    const shard = this.weightMap.get(name);
    if (!shard) throw new SafetensorsError(this.location, 'no such tensor in the weight_map', name);
    return shard;
  }

  shape(name: string): readonly number[] {
    return this.shardOf(name).shape(name);
  }

  dtype(name: string): SafetensorsDtype {
    return this.shardOf(name).dtype(name);
  }

  readRaw(name: string): Promise<RawTensor> {
    return this.shardOf(name).readRaw(name);
  }

  readRawRows(name: string, firstRow: number, rowCount: number): Promise<RawTensor> {
    return this.shardOf(name).readRawRows(name, firstRow, rowCount);
  }

  read(name: string): Promise<tf.Tensor> {
    return this.shardOf(name).read(name);
  }
}

/**
 * A shard's name as an index gives it: a file beside the index (HF joins it to the folder), so not
 * empty, `.`, `..` or a path into another folder.
 */
function isShardFileName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== '.' && value !== '..' && !/[/\\]/.test(value);
}

/** The index's JSON; a SafetensorsError for bad JSON or a key given twice (JSON.parse keeps the last). */
function parseIndex(text: string, location: string): unknown {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(location, `shard index is not valid JSON (${(error as Error).message})`);
  }
  parseExactJson(text, {
    duplicateKey: (key, path) =>
      path[0] === 'weight_map' && path.length === 1
        ? new SafetensorsError(location, 'appears twice in the weight_map', key)
        : new SafetensorsError(location, `the key "${[...path, key].join('.')}" appears twice`),
    tooDeep: (maxDepth, path) =>
      new SafetensorsError(location, `${path.slice(0, 2).join('.')} nests more than ${maxDepth} deep`),
  });
  return index;
}
