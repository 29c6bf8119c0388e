import type { ModelFamily } from '../model-family.js';
import { resolveT5Config, type T5Config } from './t5-config.js';
import { describeT5 } from './t5-describe.js';
import { T5ForConditionalGeneration } from './t5-model.js';
import { loadT5Weights } from './t5-weights.js';

export {
  T5Attention,
  type T5AttentionOptions,
  T5CrossAttention,
  type T5SelfAttentionOptions,
} from './t5-attention.js';
export { resolveT5Config, type T5Config, type T5RawConfig } from './t5-config.js';
export { describeT5 } from './t5-describe.js';
export {
  createT5FeedForward,
  T5DenseActDense,
  T5DenseGatedActDense,
  type T5FeedForward,
} from './t5-feed-forward.js';
export {
  type T5BlockOptions,
  T5DecoderBlock,
  T5EncoderBlock,
  T5LayerCrossAttention,
  T5LayerFF,
  T5LayerSelfAttention,
} from './t5-layers.js';
export { T5Decoder, T5Encoder, T5ForConditionalGeneration } from './t5-model.js';
export {
  RelativeAttentionBias,
  type RelativeBucketing,
  relativePositionBucket,
} from './t5-relative-position.js';
export { loadT5Weights, t5CheckpointName } from './t5-weights.js';

/** T5 (`model_type: "t5"`: T5, T5 v1.1, flan-t5): `T5ForConditionalGeneration`. */
export const t5: ModelFamily<T5Config, T5ForConditionalGeneration> = {
  modelType: 't5',
  task: 'seq2seq-lm',
  resolveConfig: resolveT5Config,
  describe: describeT5,
  createModel: (config, options) => new T5ForConditionalGeneration(config, options),
  loadWeights: loadT5Weights,
};
