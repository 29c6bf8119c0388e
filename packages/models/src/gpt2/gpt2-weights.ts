import type { LoadWeightsReport, WeightSource } from '@tsformer/core-tensor';
import type { FamilyLoadOptions } from '../model-family.js';
import type { GPT2LMHeadModel } from './gpt2-model.js';

/** Causal-mask buffers that old GPT-2 checkpoints saved with the weights (`h.3.attn.bias`, `…masked_bias`). */
const MASK_BUFFER = /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/;

/**
 * The exceptions to GPT-2's module-tree names:
 * - old checkpoints (the original `gpt2` upload, `GPT2Model` saves) lack the `transformer.` prefix;
 * - they also hold the attention-mask buffers `attn.bias` / `attn.masked_bias`: ignored;
 * - a tied `lm_head.weight` is `transformer.wte.weight` (one parameter under both names), so it loads
 *   from either and needs no rule.
 */
export function gpt2CheckpointName(checkpointName: string): string | null {
  if (MASK_BUFFER.test(checkpointName)) return null;
  if (checkpointName.startsWith('transformer.') || checkpointName === 'lm_head.weight') return checkpointName;
  return `transformer.${checkpointName}`;
}

/** Loads a GPT-2 checkpoint strictly by name (errors name each missing, unexpected or mis-shaped tensor). */
export function loadGPT2Weights(
  model: GPT2LMHeadModel,
  source: WeightSource,
  options: FamilyLoadOptions = {},
): Promise<LoadWeightsReport> {
  return model.loadWeights(source, { ...options, mapName: gpt2CheckpointName });
}
