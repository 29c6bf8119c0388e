import type { ModelFamily } from '../model-family.js';
import { type BartConfig, resolveBartConfig } from './bart-config.js';
import { describeBart } from './bart-describe.js';
import { BartForConditionalGeneration } from './bart-model.js';
import { bartUnsavedWeights, loadBartWeights } from './bart-weights.js';

export { BartAttention, type BartAttentionOptions, BartCrossAttention } from './bart-attention.js';
export {
  type BartConfig,
  type BartRawConfig,
  type PositionEncoding,
  readTransformerShape,
  resolveBartConfig,
  type TransformerShape,
} from './bart-config.js';
export { describeBart } from './bart-describe.js';
export { BartDecoderLayer, BartEncoderLayer } from './bart-layers.js';
export { BartDecoder, BartEncoder, BartForConditionalGeneration, BartModel } from './bart-model.js';
export { bartCheckpointName, bartUnsavedWeights, loadBartWeights } from './bart-weights.js';

/** BART (`model_type: "bart"`): `BartForConditionalGeneration`. */
export const bart: ModelFamily<BartConfig, BartForConditionalGeneration> = {
  modelType: 'bart',
  task: 'seq2seq-lm',
  resolveConfig: resolveBartConfig,
  describe: describeBart,
  createModel: (config, options) => new BartForConditionalGeneration(config, options),
  loadWeights: loadBartWeights,
  unsavedWeights: bartUnsavedWeights,
};
