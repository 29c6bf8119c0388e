import { withFile } from '@tsformer/core-tensor';
import { type GenerationOptions, parseGenerationConfig } from '@tsformer/decoding';
import type { RawConfig } from './config-fields.js';

/** The token-id fields HF's `GenerationConfig.from_model_config` takes from config.json. */
const TOKEN_FIELDS = [
  'bos_token_id',
  'eos_token_id',
  'pad_token_id',
  'decoder_start_token_id',
  'forced_bos_token_id',
  'forced_eos_token_id',
];

/**
 * A model's own generation defaults: config.json's token ids overlaid with generation_config.json
 * (when the folder has one), parsed by decoding (camelCase, validated). With `pathOf` (a folder's
 * `ModelFiles.path`), an error names the file its bad value came from: config.json or
 * generation_config.json.
 */
export function generationDefaults(
  rawConfig: RawConfig,
  generationConfigJson?: unknown,
  pathOf?: (name: string) => string,
): GenerationOptions {
  const inFile = <T>(name: string, read: () => T): T =>
    pathOf === undefined ? read() : withFile(pathOf(name), read);
  const fromConfig = Object.fromEntries(
    TOKEN_FIELDS.filter((field) => rawConfig[field] != null).map((field) => [field, rawConfig[field]]),
  );
  return {
    ...inFile('config.json', () => parseGenerationConfig(fromConfig)),
    ...(generationConfigJson === undefined
      ? {}
      : inFile('generation_config.json', () => parseGenerationConfig(generationConfigJson))),
  };
}
