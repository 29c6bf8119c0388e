import {
  SAFETENSORS_INDEX_NAME,
  SafetensorsFile,
  type SafetensorsReader,
  ShardedSafetensors,
} from '@tsformer/core-tensor';
import { ModelFileError } from './errors.js';
import type { ModelFiles } from './model-files.js';

const SINGLE_FILE_NAME = 'model.safetensors';

/**
 * The folder's weights: a sharded checkpoint (`model.safetensors.index.json`, which wins when both
 * exist) or a single `model.safetensors`. Only headers are read here; tensors are read on demand.
 */
export async function openModelWeights(files: ModelFiles): Promise<SafetensorsReader> {
  if (await files.has(SAFETENSORS_INDEX_NAME)) {
    // The text, not parsed JSON: the index reader also rejects a tensor listed twice.
    const index = await files.readText(SAFETENSORS_INDEX_NAME);
    return ShardedSafetensors.open(files.path(SAFETENSORS_INDEX_NAME), index, async (fileName) => {
      if (!(await files.has(fileName))) {
        throw new ModelFileError(
          `${files.path(SAFETENSORS_INDEX_NAME)} names shard "${fileName}", which is missing`,
        );
      }
      return SafetensorsFile.open(await files.open(fileName), files.path(fileName));
    });
  }
  if (await files.has(SINGLE_FILE_NAME)) {
    return SafetensorsFile.open(await files.open(SINGLE_FILE_NAME), files.path(SINGLE_FILE_NAME));
  }
  throw new ModelFileError(
    `${files.location} holds neither ${SINGLE_FILE_NAME} nor ${SAFETENSORS_INDEX_NAME} (only safetensors weights can be loaded)`,
  );
}
