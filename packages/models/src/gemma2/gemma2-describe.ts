import { describeLlama } from '../llama/llama-describe.js';
import { exactDescription, type ModelDescription } from '../model-description.js';
import { repeat, rmsNorm } from '../parameter-tally.js';
import type { Gemma2Config } from './gemma2-config.js';

/**
 * The sizes and counts of a Gemma 2 config: a Llama-architecture model's (Gemma 2's MLP is gated, its
 * attention has Llama's projections) plus the two feed-forward norms every layer adds.
 */
export function describeGemma2(config: Gemma2Config): ModelDescription {
  const llama = describeLlama(config);
  const feedforwardNorms = repeat(config.numHiddenLayers, repeat(2, rmsNorm(config.hiddenSize)));
  return exactDescription({ ...llama, parameterCount: llama.parameterCount + feedforwardNorms.parameters });
}
