import { bart } from './bart/index.js';
import type { RawConfig } from './config-fields.js';
import { UnknownModelTypeError } from './errors.js';
import { gemma } from './gemma/index.js';
import { gemma2 } from './gemma2/index.js';
import { generationDefaults } from './generation-defaults.js';
import { gptNeox } from './gpt_neox/index.js';
import { gpt2 } from './gpt2/index.js';
import { llama } from './llama/index.js';
import { marian } from './marian/index.js';
import { mistral } from './mistral/index.js';
import type { ModelDescription } from './model-description.js';
import type { CreateModelOptions, ModelFamily, PretrainedModel } from './model-family.js';
import { phi3 } from './phi3/index.js';
import { qwen2 } from './qwen2/index.js';
import { qwen3 } from './qwen3/index.js';
import { t5 } from './t5/index.js';
import { transformer } from './transformer/index.js';

/** Every family `fromPretrained` can build, by `model_type`. Adding a family: one import, one entry. */
export const MODEL_FAMILIES: readonly ModelFamily[] = [
  gpt2,
  llama,
  qwen2,
  mistral,
  gemma,
  gemma2,
  bart,
  marian,
  transformer,
  qwen3,
  gptNeox,
  phi3,
  t5,
];

/** The family registered for `modelType`. */
export function getModelFamily(modelType: unknown): ModelFamily {
  const family = MODEL_FAMILIES.find((candidate) => candidate.modelType === modelType);
  if (!family)
    throw new UnknownModelTypeError(
      modelType,
      MODEL_FAMILIES.map((known) => known.modelType),
    );
  return family;
}

/** A model built from a config.json alone: parameters named and shaped, no weight loaded. */
export interface ModelFromConfig {
  family: ModelFamily;
  config: unknown;
  model: PretrainedModel;
}

/** Resolves `raw` with its family and builds the model (no weights: it can be counted, then loaded). */
export function createModelFromConfig(raw: RawConfig, options: CreateModelOptions = {}): ModelFromConfig {
  const family = getModelFamily(raw.model_type);
  const config = family.resolveConfig(raw);
  const model = family.createModel(config, { generationConfig: generationDefaults(raw), ...options });
  return { family, config, model };
}

/** A config.json resolved by its family and described (sizes, counts) from its numbers alone. */
export interface DescribedConfig {
  family: ModelFamily;
  config: unknown;
  description: ModelDescription;
}

/** Resolves `raw` with its family and describes it; no module is built, so any valid size is quick. */
export function describeConfig(raw: RawConfig): DescribedConfig {
  const family = getModelFamily(raw.model_type);
  const config = family.resolveConfig(raw);
  return { family, config, description: family.describe(config) };
}

/** Hugging Face's `num_parameters()` of the model a config.json describes, computed from its numbers. */
export function parameterCountFromConfig(raw: RawConfig): number {
  return describeConfig(raw).description.parameterCount;
}
