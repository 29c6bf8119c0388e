import { describeLlama } from '../llama/llama-describe.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { type Phi3Config, resolvePhi3Config } from './phi3-config.js';
import { Phi3ForCausalLM } from './phi3-model.js';

export { type Phi3Config, type Phi3RawConfig, resolvePhi3Config } from './phi3-config.js';
export { Phi3Attention, Phi3DecoderLayer, Phi3ForCausalLM, Phi3Model } from './phi3-model.js';

/**
 * Phi-3 (`model_type: "phi3"`; Phi-3, Phi-3.5, Phi-4-mini): `Phi3ForCausalLM`, Llama's skeleton with a
 * fused `qkv_proj` and `gate_up_proj`, residual dropout, longrope and partial rotary. Its counts are
 * Llama's (a fused projection has the parameters of the ones it fuses) and its checkpoint names follow
 * the module tree with Llama's exceptions.
 */
export const phi3: ModelFamily<Phi3Config, Phi3ForCausalLM> = {
  modelType: 'phi3',
  task: 'causal-lm',
  resolveConfig: resolvePhi3Config,
  describe: describeLlama,
  createModel: (config, options) => new Phi3ForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
