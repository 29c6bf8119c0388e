import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withFile } from '@tsformer/core-tensor';
import {
  checkTokenIdRange,
  type GenerationConfig,
  type GenerationOptions,
  parseGenerationConfig,
  resolveGenerationConfig,
} from '@tsformer/decoding';
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
  /** The folder's generation_config.json as parsed, and its path (absent when the folder has none). */
  file?: { path: string; options: GenerationOptions };
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
  const generationJson = hasGenerationConfig ? await readJsonObject(generationPath) : undefined;
  const configPath = join(modelDir, 'config.json');
  const defaults = generationDefaults(await readJsonObject(configPath), generationJson, (name) =>
    join(modelDir, name),
  );
  const file =
    generationJson === undefined
      ? undefined
      : { path: generationPath, options: parseGenerationConfig(generationJson) };
  let resolved: GenerationConfig;
  try {
    resolved = resolveGenerationConfig(defaults, commandLine);
  } catch (error) {
    const usage = asUsageError(error, commandLine);
    if (usage !== error) throw usage;
    // Not the command line's value: a combination the folder's files set (`do_sample` with a bad
    // `temperature`), reported as an error of the file that holds the generation defaults.
    rethrowAsErrorOf(file?.path ?? configPath, error);
  }
  if (resolved.maxLength !== undefined || resolved.maxNewTokens !== undefined)
    return { commandLine, resolved, file };
  const withLength = { ...commandLine, maxNewTokens: DEFAULT_MAX_NEW_TOKENS };
  return { commandLine: withLength, resolved: resolveGenerationConfig(defaults, withLength), file };
}

/**
 * Once the model is loaded (its vocabulary known): every token id given on the command line
 * (`--eos-token-id`, `--pad-token-id`, `--suppress-tokens`, ...) must be inside the vocabulary, else
 * a usage error naming the flag; those of generation_config.json likewise, else an error naming the
 * file and field. (config.json's own ids are checked when the config is resolved.)
 */
export function checkTokenIds(generation: CheckedGeneration, vocabSize: number): void {
  try {
    checkTokenIdRange(generation.commandLine, vocabSize);
  } catch (error) {
    throw asUsageError(error, generation.commandLine);
  }
  const { file } = generation;
  if (file) withFile(file.path, () => checkTokenIdRange(file.options, vocabSize));
}

/** Rethrows `error` naming `file` first, as `withFile` does for errors thrown while reading it. */
function rethrowAsErrorOf(file: string, error: unknown): never {
  return withFile(file, () => {
    throw error;
  });
}
