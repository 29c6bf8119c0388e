import type { LoadWeightsReport, WeightSource } from '@tsformer/core-tensor';
import type { FamilyLoadOptions } from '../model-family.js';
import type { LlamaForCausalLM } from './llama-model.js';

/** The RoPE buffer older conversions saved with the weights (`model.layers.3.self_attn.rotary_emb.inv_freq`). */
const ROTARY_BUFFER = /\.rotary_emb\.inv_freq$/;

/**
 * The exceptions to Llama's module-tree names (Qwen2 and Mistral share them):
 * - `rotary_emb.inv_freq` buffers of older checkpoints: ignored (the frequencies come from the config);
 * - a tied `lm_head.weight` is `model.embed_tokens.weight` (one parameter under both names), so it loads
 *   from either and needs no rule.
 */
export function llamaCheckpointName(checkpointName: string): string | null {
  return ROTARY_BUFFER.test(checkpointName) ? null : checkpointName;
}

/** Loads a Llama-architecture checkpoint strictly by name. */
export function loadLlamaWeights(
  model: LlamaForCausalLM,
  source: WeightSource,
  options: FamilyLoadOptions = {},
): Promise<LoadWeightsReport> {
  return model.loadWeights(source, { ...options, mapName: llamaCheckpointName });
}
