import type { LlamaConfig } from '../llama/llama-config.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { resolveQwen3Config } from './qwen3-config.js';
import { describeQwen3 } from './qwen3-describe.js';
import { Qwen3ForCausalLM } from './qwen3-model.js';

export { type Qwen3RawConfig, resolveQwen3Config } from './qwen3-config.js';
export { describeQwen3 } from './qwen3-describe.js';
export { Qwen3Attention, Qwen3DecoderLayer, Qwen3ForCausalLM, Qwen3Model } from './qwen3-model.js';

/**
 * Qwen3 (`model_type: "qwen3"`): `Qwen3ForCausalLM`, Llama's classes with a per-head RMSNorm on queries
 * and keys; its checkpoints follow Llama's names (plus `q_norm`/`k_norm`), so Llama's loader reads them.
 */
export const qwen3: ModelFamily<LlamaConfig, Qwen3ForCausalLM> = {
  modelType: 'qwen3',
  task: 'causal-lm',
  resolveConfig: resolveQwen3Config,
  describe: describeQwen3,
  createModel: (config, options) => new Qwen3ForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
