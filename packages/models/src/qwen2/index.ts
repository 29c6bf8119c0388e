import type { LlamaConfig } from '../llama/llama-config.js';
import { describeLlama } from '../llama/llama-describe.js';
import { LlamaForCausalLM } from '../llama/llama-model.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { resolveQwen2Config } from './qwen2-config.js';

export { type Qwen2RawConfig, resolveQwen2Config } from './qwen2-config.js';

/**
 * Qwen2 (`model_type: "qwen2"`) on Llama's classes: only its config differs (biases on q/k/v,
 * sliding-window upper layers when `use_sliding_window`).
 */
export const qwen2: ModelFamily<LlamaConfig, LlamaForCausalLM> = {
  modelType: 'qwen2',
  task: 'causal-lm',
  resolveConfig: resolveQwen2Config,
  describe: describeLlama,
  createModel: (config, options) => new LlamaForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
