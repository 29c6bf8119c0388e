import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type GenerationConfig, type GenerationOptions, resolveGenerationConfig } from '@tsformer/decoding';
import { generationDefaults } from '@tsformer/models';
import { asUsageError } from './generation-flags.js';
import { readJsonObject } from './json-file.js';

/** New tokens when neither the command line nor the model folder sets a length (HF's 20 is short for a demo). */
export const DEFAULT_MAX_NEW_TOKENS = 64;

/** The command line's generation options, checked against the model folder's defaults. */
export interface CheckedGeneration {
  /** What `generate` gets on top of the model's own defaults. */
  commandLine: GenerationOptions;
  /** The model's defaults and the command line merged and checked. */
  resolved: GenerationConfig;
}

/**
 * Checks the command line's generation options against the folder's defaults (config.json's token
 * ids and generation_config.json, as the loaded model will have them) before any weight is read: a
 * bad flag value is a usage error naming the flag. Adds `maxNewTokens: 64` when no layer sets a length.
 */
export async function checkGenerationOptions(
  modelDir: string,
  commandLine: GenerationOptions,
): Promise<CheckedGeneration> {
  const generationPath = join(modelDir, 'generation_config.json');
  const hasGenerationConfig = await stat(generationPath).then(
    (info) => info.isFile(),
    () => false,
  );
  const defaults = generationDefaults(
    await readJsonObject(join(modelDir, 'config.json')),
    hasGenerationConfig ? await readJsonObject(generationPath) : undefined,
  );
  let resolved: GenerationConfig;
  try {
    resolved = resolveGenerationConfig(defaults, commandLine);
  } catch (error) {
    throw asUsageError(error, commandLine);
  }
  if (resolved.maxLength !== undefined || resolved.maxNewTokens !== undefined)
    return { commandLine, resolved };
  const withLength = { ...commandLine, maxNewTokens: DEFAULT_MAX_NEW_TOKENS };
  return { commandLine: withLength, resolved: resolveGenerationConfig(defaults, withLength) };
}
