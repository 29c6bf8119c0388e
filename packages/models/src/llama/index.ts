import type { ModelFamily } from '../model-family.js';
import { type LlamaConfig, resolveLlamaConfig } from './llama-config.js';
import { describeLlama } from './llama-describe.js';
import { LlamaForCausalLM } from './llama-model.js';
import { loadLlamaWeights } from './llama-weights.js';

export {
  type LlamaConfig,
  type LlamaDefaults,
  type LlamaRawConfig,
  type LlamaVariant,
  readLlamaStyleConfig,
  resolveLlamaConfig,
} from './llama-config.js';
export { describeLlama } from './llama-describe.js';
export {
  LlamaAttention,
  type LlamaAttentionScoring,
  LlamaDecoderLayer,
  LlamaForCausalLM,
  LlamaModel,
} from './llama-model.js';
export { llamaCheckpointName, loadLlamaWeights } from './llama-weights.js';

/** Llama (`model_type: "llama"`): `LlamaForCausalLM`. */
export const llama: ModelFamily<LlamaConfig, LlamaForCausalLM> = {
  modelType: 'llama',
  task: 'causal-lm',
  resolveConfig: resolveLlamaConfig,
  describe: describeLlama,
  createModel: (config, options) => new LlamaForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
