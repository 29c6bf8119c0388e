import type { ModelFamily } from '../model-family.js';
import { type GPT2Config, resolveGPT2Config } from './gpt2-config.js';
import { describeGPT2 } from './gpt2-describe.js';
import { GPT2LMHeadModel } from './gpt2-model.js';
import { loadGPT2Weights } from './gpt2-weights.js';

export { type GPT2Config, type GPT2RawConfig, resolveGPT2Config } from './gpt2-config.js';
export { describeGPT2 } from './gpt2-describe.js';
export { GPT2Attention, GPT2Block, GPT2LMHeadModel, GPT2Model } from './gpt2-model.js';
export { gpt2CheckpointName, loadGPT2Weights } from './gpt2-weights.js';

/** GPT-2 (`model_type: "gpt2"`): `GPT2LMHeadModel`. */
export const gpt2: ModelFamily<GPT2Config, GPT2LMHeadModel> = {
  modelType: 'gpt2',
  task: 'causal-lm',
  resolveConfig: resolveGPT2Config,
  describe: describeGPT2,
  createModel: (config, options) => new GPT2LMHeadModel(config, options),
  loadWeights: loadGPT2Weights,
};
