import type { RawRopeParameters } from '@tsformer/attention';
import { ModelConfigFields, type RawConfig } from '../config-fields.js';
import { type LlamaConfig, type LlamaRawConfig, readLlamaStyleConfig } from '../llama/llama-config.js';

/**
 * `config.json` of a Phi-3 checkpoint (Phi-3, Phi-3.5, Phi-4-mini). RoPE comes as `rope_parameters` or
 * 4.x's `rope_theta` + `rope_scaling`; Phi-3-mini-128k and Phi-3.5 use `longrope`, Phi-4-mini adds
 * `partial_rotary_factor`.
 */
export interface Phi3RawConfig extends LlamaRawConfig {
  /** The pretraining context: where longrope switches from `short_factor` to `long_factor` (default 4096). */
  original_max_position_embeddings?: number;
  /** Dropout on each residual branch (attention output, MLP output), in training only. */
  resid_pdrop?: number;
  /** Read and checked; transformers 5 applies no embedding dropout to Phi-3. */
  embd_pdrop?: number;
  /** Every layer attends to at most this many positions (itself included); null: full attention. */
  sliding_window?: number | null;
}

/** A resolved Phi-3 configuration: Llama's shape (Phi-3 runs on Llama's hooks) plus its residual dropout. */
export interface Phi3Config extends LlamaConfig {
  /** `resid_pdrop`: dropout on the attention and MLP outputs before each residual add (training only). */
  residualDropout: number;
}

/** What `Phi3Config` (transformers 5) accepts as `rope_type`; `su` and `yarn` are old names of `longrope`. */
const PHI3_ROPE_TYPES = ['default', 'longrope'] as const;
const LONGROPE_ALIASES = ['su', 'yarn'];

/**
 * Reads a Phi-3 `config.json` (`Phi3Config()`'s defaults, the Phi-3-mini-4k shape): fused projections
 * on Llama's hooks, no biases, RMSNorm, untied head by default, every layer sliding when
 * `sliding_window` is set, and RoPE either default or longrope. As in HF, longrope's pretraining
 * length is the top-level `original_max_position_embeddings` (4096 when absent), and a `su`/`yarn`
 * rope type (early Phi-3 configs) means `longrope`.
 */
export function resolvePhi3Config(raw: Phi3RawConfig | RawConfig): Phi3Config {
  const fields = new ModelConfigFields(raw as RawConfig, 'phi3');
  const ropeFields = new ModelConfigFields(
    {
      ...renameLongropeAliases(raw as RawConfig),
      original_max_position_embeddings: fields.size('original_max_position_embeddings', 'positions', 4096),
    },
    'phi3',
  );
  const config = readLlamaStyleConfig(
    ropeFields,
    {
      vocabSize: 32064,
      hiddenSize: 3072,
      intermediateSize: 8192,
      numHiddenLayers: 32,
      numAttentionHeads: 32,
      numKeyValueHeads: null,
      maxPositionEmbeddings: 4096,
      rmsNormEps: 1e-5,
      bosTokenId: 1,
      eosTokenId: 32000,
    },
    ({ numHiddenLayers }) => {
      const window = fields.optionalSize('sliding_window', 'positions');
      return {
        queryKeyValueBias: false,
        outputProjectionBias: false,
        slidingWindows: Array.from({ length: numHiddenLayers }, () => window),
      };
    },
  );
  if (!(PHI3_ROPE_TYPES as readonly string[]).includes(config.rope.ropeType)) {
    fields.fail(
      ropeTypeField(raw as RawConfig),
      `"${config.rope.ropeType}" is not a Phi-3 RoPE type; Phi-3 takes "default" or "longrope"`,
    );
  }
  fields.rate('embd_pdrop', 0); // checked as HF checks it; Phi3Model applies no embedding dropout
  return {
    ...config,
    mlpBias: false, // Phi3MLP has no biases, whatever mlp_bias says
    padTokenId: phi3PadTokenId(fields, config.vocabSize),
    residualDropout: fields.rate('resid_pdrop', 0),
  };
}

/**
 * `pad_token_id`, 32000 when absent: HF builds `embed_tokens` with it as `padding_idx`, so (as there)
 * a default that is not a row of the table is an error, not a silent change.
 */
function phi3PadTokenId(fields: ModelConfigFields, vocabSize: number): number | null {
  const fallback = 32000;
  if (!('pad_token_id' in fields.raw) && fallback >= vocabSize) {
    fields.fail(
      'pad_token_id',
      `is absent and its default ${fallback} is not below vocab_size (${vocabSize}); set it (or null)`,
    );
  }
  return fields.tokenId('pad_token_id', fallback, vocabSize);
}

/** The field naming the RoPE type: in `rope_scaling` when it is a non-empty dict (it wins), else `rope_parameters`. */
function ropeTypeField(raw: RawConfig): string {
  const scaling = raw.rope_scaling;
  const dict =
    scaling !== null && typeof scaling === 'object' && Object.keys(scaling).length > 0
      ? 'rope_scaling'
      : 'rope_parameters';
  const rope = (raw[dict] ?? {}) as RawRopeParameters;
  return `${dict}.${'rope_type' in rope ? 'rope_type' : 'type'}`;
}

/** A copy of `raw` whose RoPE dicts say `longrope` where they say `su` or `yarn` (HF's Phi-3 rule). */
function renameLongropeAliases(raw: RawConfig): RawConfig {
  const renamed: Record<string, unknown> = { ...raw };
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const dict = raw[key];
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) continue;
    const rope = dict as RawRopeParameters;
    const typeKey = 'rope_type' in rope ? 'rope_type' : 'type';
    if (LONGROPE_ALIASES.includes(String(rope[typeKey]))) renamed[key] = { ...rope, [typeKey]: 'longrope' };
  }
  return renamed;
}
