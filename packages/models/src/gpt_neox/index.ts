import type { ModelFamily } from '../model-family.js';
import { type GPTNeoXConfig, resolveGPTNeoXConfig } from './gpt-neox-config.js';
import { describeGPTNeoX } from './gpt-neox-describe.js';
import { GPTNeoXForCausalLM } from './gpt-neox-model.js';
import { loadGPTNeoXWeights } from './gpt-neox-weights.js';

export { type GPTNeoXConfig, type GPTNeoXRawConfig, resolveGPTNeoXConfig } from './gpt-neox-config.js';
export { describeGPTNeoX } from './gpt-neox-describe.js';
export { GPTNeoXAttention, GPTNeoXForCausalLM, GPTNeoXLayer, GPTNeoXModel } from './gpt-neox-model.js';
export { gptNeoXCheckpointName, loadGPTNeoXWeights } from './gpt-neox-weights.js';

/** GPT-NeoX (`model_type: "gpt_neox"`: Pythia, GPT-NeoX-20B, StableLM-alpha): `GPTNeoXForCausalLM`. */
export const gptNeox: ModelFamily<GPTNeoXConfig, GPTNeoXForCausalLM> = {
  modelType: 'gpt_neox',
  task: 'causal-lm',
  resolveConfig: resolveGPTNeoXConfig,
  describe: describeGPTNeoX,
  createModel: (config, options) => new GPTNeoXForCausalLM(config, options),
  loadWeights: loadGPTNeoXWeights,
};
