import type { ModelFamily } from '../model-family.js';
import { type BartConfig, resolveBartConfig } from './bart-config.js';
import { describeBart } from './bart-describe.js';
import { BartForConditionalGeneration } from './bart-model.js';
import { loadBartWeights } from './bart-weights.js';

export { BartAttention, type BartAttentionOutput } from './bart-attention.js';
export {
  type BartConfig,
  type BartRawConfig,
  type PositionEncoding,
  readTransformerShape,
  resolveBartConfig,
  type TransformerShape,
} from './bart-config.js';
export { describeBart } from './bart-describe.js';
export { BartDecoderLayer, type BartDecoderLayerOutput, BartEncoderLayer } from './bart-layers.js';
export {
  BartDecoder,
  type BartDecoderInput,
  type BartDecoderOutput,
  BartEncoder,
  type BartEncoderOutput,
  BartForConditionalGeneration,
  type BartForwardInput,
  type BartForwardOutput,
  BartModel,
} from './bart-model.js';
export { bartCheckpointName, loadBartWeights } from './bart-weights.js';

/** BART (`model_type: "bart"`): `BartForConditionalGeneration`. */
export const bart: ModelFamily<BartConfig, BartForConditionalGeneration> = {
  modelType: 'bart',
  task: 'seq2seq-lm',
  resolveConfig: resolveBartConfig,
  describe: describeBart,
  createModel: (config, options) => new BartForConditionalGeneration(config, options),
  loadWeights: loadBartWeights,
};
