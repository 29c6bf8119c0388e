import type { LoadWeightsReport, Parameter, WeightSource } from '@tsformer/core-tensor';
import { SinusoidalPositionalEmbedding } from '@tsformer/layers';
import type { FamilyLoadOptions } from '../model-family.js';
import type { BartForConditionalGeneration } from './bart-model.js';

/** Checkpoint names kept as they are: everything else belongs to the base model under `model.`. */
const TOP_LEVEL_NAMES = new Set(['lm_head.weight', 'final_logits_bias']);

/**
 * The exceptions to the module-tree names, as Hugging Face's loader applies them:
 * - a checkpoint of the base `BartModel`/`MarianModel` lacks the `model.` prefix (`base_model_prefix`);
 * - tied tables (`model.shared`, both `embed_tokens`, `lm_head`) arrive under any one of their names
 *   (the module tree holds one parameter under all of them).
 */
export function bartCheckpointName(checkpointName: string): string {
  if (checkpointName.startsWith('model.') || TOP_LEVEL_NAMES.has(checkpointName)) return checkpointName;
  return `model.${checkpointName}`;
}

/**
 * Loads a checkpoint into a BART-style model by name (strictly: a missing, unexpected or mis-shaped
 * tensor is an error naming it). The one table a checkpoint may leave out is a fixed sinusoid
 * (`embed_positions` of Marian): Hugging Face 5 does not save it and recomputes it, older conversions
 * store it; the model computed it when it was built, and a stored copy replaces it.
 */
export async function loadBartWeights(
  model: BartForConditionalGeneration,
  source: WeightSource,
  options: FamilyLoadOptions = {},
): Promise<LoadWeightsReport> {
  return model.loadWeights(withComputedTables(model, source), { ...options, mapName: bartCheckpointName });
}

/**
 * The sinusoid position tables (Marian's, the classic Transformer's): computed from the config, so
 * Hugging Face 5's `save_pretrained` does not write them and `loadBartWeights` recomputes them.
 */
export function bartUnsavedWeights(model: BartForConditionalGeneration): string[] {
  return Object.keys(sinusoidTables(model));
}

/** The stacks' sinusoid tables by module-tree name. */
function sinusoidTables(model: BartForConditionalGeneration): Record<string, Parameter> {
  const tables: Record<string, Parameter> = {};
  for (const [stackName, stack] of Object.entries({
    encoder: model.model.encoder,
    decoder: model.model.decoder,
  })) {
    if (stack.embedPositions instanceof SinusoidalPositionalEmbedding) {
      tables[`model.${stackName}.embed_positions.weight`] = stack.embedPositions.weight;
    }
  }
  return tables;
}

/** `source` plus the model's own sinusoid tables under the names the checkpoint lacks. */
function withComputedTables(model: BartForConditionalGeneration, source: WeightSource): WeightSource {
  const present = new Set(source.names().map(bartCheckpointName));
  const computed = new Map(Object.entries(sinusoidTables(model)).filter(([name]) => !present.has(name)));
  if (computed.size === 0) return source;
  return {
    location: source.location,
    names: () => [...source.names(), ...computed.keys()],
    shape: (name) => computed.get(name)?.shape ?? source.shape(name),
    read: async (name) => computed.get(name)?.tensor.clone() ?? source.read(name),
  };
}
