import { CONFIG_SIZE_LIMITS, fieldRules } from '@tsformer/core-tensor';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';
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
  const fields = new ModelConfigFields(raw as RawConfig, 'qwen2');
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

/** The per-layer types transformers 5 writes (`layer_types`). */
const LAYER_TYPES = ['full_attention', 'sliding_attention'] as const;

/** `Qwen2Config`'s and `Qwen3Config`'s `sliding_window` when the field is absent (an explicit null stays null). */
const DEFAULT_SLIDING_WINDOW = 4096;

/**
 * HF's rule (Qwen2 and Qwen3 share it): with `use_sliding_window`, layers from `max_window_layers` on
 * use a window of `sliding_window`; an explicit `layer_types` list wins. Every field is checked, used or
 * not.
 */
export function qwen2SlidingWindows(fields: ModelConfigFields, numLayers: number): (number | null)[] {
  const useSlidingWindow = fields.boolean('use_sliding_window', false);
  const slidingWindow =
    'sliding_window' in fields.raw
      ? fields.optionalSize('sliding_window', 'positions')
      : DEFAULT_SLIDING_WINDOW;
  const window = useSlidingWindow ? slidingWindow : null;
  // a layer index: 0 makes every layer slide
  const maxWindowLayers = fields.read(
    'max_window_layers',
    fieldRules.integer({ min: 0, max: CONFIG_SIZE_LIMITS.layers }),
    28,
  );
  const layerTypes = fields.optional(
    'layer_types',
    fieldRules.list(
      fieldRules.oneOf(LAYER_TYPES),
      `a list of "full_attention" or "sliding_attention", one for each of the ${numLayers} layers`,
      { length: numLayers },
    ),
  );
  if (layerTypes !== null) {
    if (layerTypes.includes('sliding_attention') && window === null) {
      fields.fail(
        'sliding_window',
        'must be a positive integer when layer_types has sliding_attention layers',
      );
    }
    return layerTypes.map((type) => (type === 'sliding_attention' ? window : null));
  }
  return Array.from({ length: numLayers }, (_, layer) =>
    window !== null && layer >= maxWindowLayers ? window : null,
  );
}
