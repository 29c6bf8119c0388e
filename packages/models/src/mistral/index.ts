import type { LlamaConfig } from '../llama/llama-config.js';
import { describeLlama } from '../llama/llama-describe.js';
import { LlamaForCausalLM } from '../llama/llama-model.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { resolveMistralConfig } from './mistral-config.js';

export { type MistralRawConfig, resolveMistralConfig } from './mistral-config.js';

/**
 * Mistral (`model_type: "mistral"`) on Llama's classes: only its config differs (no attention
 * biases; every layer a sliding window, so its caches slide and its masks hide older keys).
 */
export const mistral: ModelFamily<LlamaConfig, LlamaForCausalLM> = {
  modelType: 'mistral',
  task: 'causal-lm',
  resolveConfig: resolveMistralConfig,
  describe: describeLlama,
  createModel: (config, options) => new LlamaForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
