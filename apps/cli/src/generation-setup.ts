import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type GenerationConfig,
  type GenerationOptions,
  parseGenerationConfig,
  resolveGenerationConfig,
} from '@tsformer/decoding';
import { asUsageError } from './generation-flags.js';
import { readJsonObject } from './json-file.js';

/** New tokens when neither the command line nor the model folder sets a length (HF's 20 is short for a demo). */
export const DEFAULT_MAX_NEW_TOKENS = 64;

/** The generation layers of a run: the folder's generation_config.json, then the command line. */
export interface GenerationLayers {
  fromFolder: GenerationOptions;
  fromCommandLine: GenerationOptions;
  /** Both merged and checked (the model's own defaults come first when generating). */
  resolved: GenerationConfig;
}

/**
 * Reads the folder's generation_config.json (when there is one) and checks the command line's
 * options against it before any weight is loaded: a bad flag value is a usage error naming the flag.
 * Adds `--max-new-tokens 64` when no layer sets a length.
 */
export async function resolveGenerationLayers(
  modelDir: string,
  commandLine: GenerationOptions,
): Promise<GenerationLayers> {
  const path = join(modelDir, 'generation_config.json');
  const exists = await stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
  const fromFolder = exists ? parseGenerationConfig(await readJsonObject(path), path) : {};
  let resolved: GenerationConfig;
  try {
    resolved = resolveGenerationConfig(fromFolder, commandLine);
  } catch (error) {
    throw asUsageError(error, commandLine);
  }
  if (resolved.maxLength !== undefined || resolved.maxNewTokens !== undefined) {
    return { fromFolder, fromCommandLine: commandLine, resolved };
  }
  const withLength = { ...commandLine, maxNewTokens: DEFAULT_MAX_NEW_TOKENS };
  return {
    fromFolder,
    fromCommandLine: withLength,
    resolved: resolveGenerationConfig(fromFolder, withLength),
  };
}
