import { describeLlama } from '../llama/llama-describe.js';
import { loadLlamaWeights } from '../llama/llama-weights.js';
import type { ModelFamily } from '../model-family.js';
import { type GemmaConfig, resolveGemmaConfig } from './gemma-config.js';
import { GemmaForCausalLM } from './gemma-model.js';

export {
  type GemmaConfig,
  type GemmaRawConfig,
  gemmaConfigFields,
  readGemmaStyleConfig,
  resolveGemmaConfig,
} from './gemma-config.js';
export { createGemmaNorm, GemmaDecoderLayer, GemmaForCausalLM, GemmaModel } from './gemma-model.js';

/**
 * Gemma (`model_type: "gemma"`): `GemmaForCausalLM`, Llama's classes with Gemma's hooks (`1 + weight`
 * RMSNorms, embeddings × √hidden, GeGLU); its sizes and weight names are Llama's.
 */
export const gemma: ModelFamily<GemmaConfig, GemmaForCausalLM> = {
  modelType: 'gemma',
  task: 'causal-lm',
  resolveConfig: resolveGemmaConfig,
  describe: describeLlama,
  createModel: (config, options) => new GemmaForCausalLM(config, options),
  loadWeights: loadLlamaWeights,
};
