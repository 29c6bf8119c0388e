import { ConfigFields, type RawConfig } from '../config-fields.js';
import { type LlamaConfig, type LlamaRawConfig, readLlamaStyleConfig } from '../llama/llama-config.js';

/** `config.json` of a Qwen2 checkpoint: Llama's fields plus its sliding-window switches. */
export interface Qwen2RawConfig extends LlamaRawConfig {
  /** Sliding-window attention in the layers from `max_window_layers` on (default false). */
  use_sliding_window?: boolean;
  sliding_window?: number | null;
  max_window_layers?: number;
  /** transformers 5 writes the per-layer result: `full_attention` or `sliding_attention`. */
  layer_types?: string[];
}

/**
 * Reads a Qwen2 `config.json` (`Qwen2Config()`'s defaults). Qwen2 runs on Llama's classes: it
 * differs by biases on q_proj/k_proj/v_proj (none on o_proj) and optional sliding-window layers.
 */
export function resolveQwen2Config(raw: Qwen2RawConfig | RawConfig): LlamaConfig {
  const fields = new ConfigFields(raw as RawConfig, 'qwen2');
  return readLlamaStyleConfig(
    fields,
    {
      vocabSize: 151936,
      hiddenSize: 4096,
      intermediateSize: 22016,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: 32,
      maxPositionEmbeddings: 32768,
      rmsNormEps: 1e-6,
      bosTokenId: null,
      eosTokenId: null,
    },
    ({ numHiddenLayers }) => ({
      queryKeyValueBias: true,
      outputProjectionBias: false,
      slidingWindows: qwen2SlidingWindows(fields, numHiddenLayers),
    }),
  );
}

/**
 * HF's rule: with `use_sliding_window`, layers from `max_window_layers` on use a window of
 * `sliding_window`; an explicit `layer_types` list wins.
 */
function qwen2SlidingWindows(fields: ConfigFields, numLayers: number): (number | null)[] {
  const useSlidingWindow = fields.boolean('use_sliding_window', false);
  const window = useSlidingWindow ? fields.optionalPositiveInteger('sliding_window') : null;
  const layerTypes = fields.value('layer_types');
  if (layerTypes !== undefined) {
    if (
      !Array.isArray(layerTypes) ||
      layerTypes.length !== numLayers ||
      !layerTypes.every((type) => type === 'full_attention' || type === 'sliding_attention')
    ) {
      fields.fail(
        'layer_types',
        `must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers, got ${JSON.stringify(layerTypes)}`,
      );
    }
    if (layerTypes.includes('sliding_attention') && window === null) {
      fields.fail(
        'sliding_window',
        'must be a positive integer when layer_types has sliding_attention layers',
      );
    }
    return layerTypes.map((type) => (type === 'sliding_attention' ? window : null));
  }
  const maxWindowLayers = fields.positiveInteger('max_window_layers', 28);
  return Array.from({ length: numLayers }, (_, layer) =>
    window !== null && layer >= maxWindowLayers ? window : null,
  );
}
