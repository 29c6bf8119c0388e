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
 * (when the folder has one), parsed by decoding (camelCase, validated).
 */
export function generationDefaults(rawConfig: RawConfig, generationConfigJson?: unknown): GenerationOptions {
  const fromConfig = Object.fromEntries(
    TOKEN_FIELDS.filter((field) => rawConfig[field] != null).map((field) => [field, rawConfig[field]]),
  );
  return {
    ...parseGenerationConfig(fromConfig, 'config.json'),
    ...(generationConfigJson === undefined ? {} : parseGenerationConfig(generationConfigJson)),
  };
}
