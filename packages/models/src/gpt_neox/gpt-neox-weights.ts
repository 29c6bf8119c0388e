import type { LoadWeightsReport, WeightSource } from '@tsformer/core-tensor';
import type { FamilyLoadOptions } from '../model-family.js';
import type { GPTNeoXForCausalLM } from './gpt-neox-model.js';

/**
 * Buffers older GPT-NeoX checkpoints (Pythia, GPT-NeoX-20B) saved with the weights: each layer's causal
 * mask `attention.bias`, its `attention.masked_bias` and its RoPE `attention.rotary_emb.inv_freq`.
 */
const SAVED_BUFFER = /^gpt_neox\.layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/;

/**
 * The exceptions to GPT-NeoX's module-tree names:
 * - the saved buffers above: ignored, as HF ignores them (the mask is built per forward, the frequencies
 *   come from the config);
 * - a tied `embed_out.weight` is `gpt_neox.embed_in.weight` (one parameter under both names), so it loads
 *   from either and needs no rule.
 */
export function gptNeoXCheckpointName(checkpointName: string): string | null {
  return SAVED_BUFFER.test(checkpointName) ? null : checkpointName;
}

/** Loads a GPT-NeoX checkpoint strictly by name. */
export function loadGPTNeoXWeights(
  model: GPTNeoXForCausalLM,
  source: WeightSource,
  options: FamilyLoadOptions = {},
): Promise<LoadWeightsReport> {
  return model.loadWeights(source, { ...options, mapName: gptNeoXCheckpointName });
}
