import type { BartConfig } from '../bart/bart-config.js';
import { describeBart } from '../bart/bart-describe.js';
import { BartForConditionalGeneration } from '../bart/bart-model.js';
import { bartUnsavedWeights, loadBartWeights } from '../bart/bart-weights.js';
import type { ModelFamily } from '../model-family.js';
import { resolveMarianConfig } from './marian-config.js';

export { type MarianRawConfig, resolveMarianConfig } from './marian-config.js';

/**
 * Marian / OPUS-MT (`model_type: "marian"`, HF's `MarianMTModel`): BART's classes and weight names
 * with Marian's config (sinusoidal positions, no embedding LayerNorm, optional separate vocabularies).
 */
export const marian: ModelFamily<BartConfig, BartForConditionalGeneration> = {
  modelType: 'marian',
  task: 'seq2seq-lm',
  resolveConfig: resolveMarianConfig,
  describe: describeBart,
  createModel: (config, options) => new BartForConditionalGeneration(config, options),
  loadWeights: loadBartWeights,
  unsavedWeights: bartUnsavedWeights,
};
