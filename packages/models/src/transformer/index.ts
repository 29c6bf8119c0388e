import type { BartConfig } from '../bart/bart-config.js';
import { describeBart } from '../bart/bart-describe.js';
import { BartForConditionalGeneration } from '../bart/bart-model.js';
import { bartUnsavedWeights, loadBartWeights } from '../bart/bart-weights.js';
import type { ModelFamily } from '../model-family.js';
import { resolveTransformerConfig } from './transformer-config.js';

export { resolveTransformerConfig, type TransformerRawConfig } from './transformer-config.js';

/**
 * The classic "Attention is all you need" Transformer (`model_type: "transformer"`, tsformer's own):
 * BART's classes with the paper's choices (see `resolveTransformerConfig`).
 */
export const transformer: ModelFamily<BartConfig, BartForConditionalGeneration> = {
  modelType: 'transformer',
  task: 'seq2seq-lm',
  resolveConfig: resolveTransformerConfig,
  describe: describeBart,
  createModel: (config, options) => new BartForConditionalGeneration(config, options),
  loadWeights: loadBartWeights,
  unsavedWeights: bartUnsavedWeights,
};
