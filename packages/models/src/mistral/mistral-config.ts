import { ModelConfigFields, type RawConfig } from '../config-fields.js';
import { type LlamaConfig, type LlamaRawConfig, readLlamaStyleConfig } from '../llama/llama-config.js';

/** `config.json` of a Mistral checkpoint: Llama's fields plus `sliding_window`. */
export interface MistralRawConfig extends LlamaRawConfig {
  /** Every layer attends to at most this many positions (itself included); null: full attention. */
  sliding_window?: number | null;
}

/**
 * Reads a Mistral `config.json` (`MistralConfig()`'s defaults, the Mistral-7B shape). Mistral runs
 * on Llama's classes: no attention biases, and every layer uses the same sliding window (its cache
 * is a sliding-window cache and its mask hides keys `sliding_window` or more positions back).
 */
export function resolveMistralConfig(raw: MistralRawConfig | RawConfig): LlamaConfig {
  const fields = new ModelConfigFields(raw as RawConfig, 'mistral');
  return readLlamaStyleConfig(
    fields,
    {
      vocabSize: 32000,
      hiddenSize: 4096,
      intermediateSize: 14336,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: 8,
      maxPositionEmbeddings: 4096 * 32,
      rmsNormEps: 1e-6,
      bosTokenId: 1,
      eosTokenId: 2,
    },
    ({ numHiddenLayers }) => {
      const window =
        'sliding_window' in fields.raw ? fields.optionalSize('sliding_window', 'positions') : 4096;
      return {
        queryKeyValueBias: false,
        outputProjectionBias: false,
        slidingWindows: Array.from({ length: numHiddenLayers }, () => window),
      };
    },
  );
}
