import type { LlamaConfig } from '../llama/llama-config.js';
import { describeLlama } from '../llama/llama-describe.js';
import { exactDescription, type ModelDescription } from '../model-description.js';
import { repeat, rmsNorm, sum } from '../parameter-tally.js';

/**
 * The sizes and counts of a Qwen3 config: Llama's description plus each layer's `q_norm` and `k_norm`
 * (one `headDim` weight each; no matrix product, no embedding).
 */
export function describeQwen3(config: LlamaConfig): ModelDescription {
  const llama = describeLlama(config);
  const queryKeyNorms = repeat(config.numHiddenLayers, sum(rmsNorm(config.headDim), rmsNorm(config.headDim)));
  return exactDescription({ ...llama, parameterCount: llama.parameterCount + queryKeyNorms.parameters });
}
