import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { type Gemma2Config, resolveGemma2Config } from './gemma2-config.js';
import { describeGemma2 } from './gemma2-describe.js';
import { Gemma2ForCausalLM } from './gemma2-model.js';

export { type Gemma2Config, type Gemma2RawConfig, resolveGemma2Config } from './gemma2-config.js';
export { describeGemma2 } from './gemma2-describe.js';
export { Gemma2DecoderLayer, Gemma2ForCausalLM, Gemma2Model } from './gemma2-model.js';

/**
 * Gemma 2 (`model_type: "gemma2"`): `Gemma2ForCausalLM`, Gemma's classes with four norms per layer,
 * `query_pre_attn_scalar`, attention and final logit soft-capping, and sliding-window layers (their
 * caches slide); weight names are Llama's plus the feed-forward norms.
 */
export const gemma2: ModelFamily<Gemma2Config, Gemma2ForCausalLM> = {
  modelType: 'gemma2',
  task: 'causal-lm',
  resolveConfig: resolveGemma2Config,
  describe: describeGemma2,
  createModel: (config, options) => new Gemma2ForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
