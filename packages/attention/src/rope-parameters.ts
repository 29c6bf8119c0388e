import { RopeConfigError } from './errors.js';

/** The RoPE variants of HF's `ROPE_INIT_FUNCTIONS` that tsformer implements. */
export const ROPE_TYPES = ['default', 'linear', 'dynamic', 'yarn', 'longrope', 'llama3'] as const;
export type RopeType = (typeof ROPE_TYPES)[number];

/** One RoPE dict as config.json spells it: transformers 5 `rope_parameters` or 4.x `rope_scaling`. */
export interface RawRopeParameters {
  rope_type?: string;
  /** The 4.x name of `rope_type`. */
  type?: string;
  rope_theta?: number;
  partial_rotary_factor?: number;
  factor?: number | null;
  original_max_position_embeddings?: number;
  attention_factor?: number | null;
  beta_fast?: number | null;
  beta_slow?: number | null;
  mscale?: number | null;
  mscale_all_dim?: number | null;
  truncate?: boolean;
  short_factor?: number[];
  long_factor?: number[];
  low_freq_factor?: number;
  high_freq_factor?: number;
}

/** The fields of a model's config.json that RoPE reads. */
export interface RawRopeConfig {
  hidden_size?: number;
  num_attention_heads?: number;
  head_dim?: number | null;
  max_position_embeddings?: number;
  /** Phi-3 keeps the pretraining length here; it wins over the one inside the RoPE dict (as HF). */
  original_max_position_embeddings?: number;
  rope_theta?: number;
  partial_rotary_factor?: number;
  rope_scaling?: RawRopeParameters | null;
  rope_parameters?: RawRopeParameters | null;
}

interface RopeCommon {
  ropeTheta: number;
  headDim: number;
  partialRotaryFactor: number;
  /** HF's `dim`: `int(headDim * partialRotaryFactor)`; the first `2 * ceil(rotaryDim / 2)` channels rotate. */
  rotaryDim: number;
  maxPositionEmbeddings?: number;
}

/** Resolved RoPE settings, camelCase, every default applied; `ropeType` tells which fields exist. */
export type RopeParameters = RopeCommon &
  (
    | { ropeType: 'default' }
    | { ropeType: 'linear'; factor: number }
    | { ropeType: 'dynamic'; factor: number; maxPositionEmbeddings: number }
    | {
        ropeType: 'yarn';
        factor: number;
        originalMaxPositionEmbeddings: number;
        attentionFactor?: number;
        betaFast: number;
        betaSlow: number;
        mscale?: number;
        mscaleAllDim?: number;
        truncate: boolean;
      }
    | {
        ropeType: 'longrope';
        factor: number;
        originalMaxPositionEmbeddings: number;
        attentionFactor?: number;
        shortFactor: number[];
        longFactor: number[];
      }
    | {
        ropeType: 'llama3';
        factor: number;
        originalMaxPositionEmbeddings: number;
        lowFreqFactor: number;
        highFreqFactor: number;
      }
  );

export interface ResolveRopeOptions {
  /** `rope_theta` when the config has none (HF's per-model `default_theta`; 10000 by default). */
  defaultRopeTheta?: number;
}

/**
 * Reads RoPE settings from a config.json in either spelling (transformers 5 `rope_parameters`, or 4.x
 * `rope_theta` + `rope_scaling` with `type` or `rope_type`), as HF's `RotaryEmbeddingConfigMixin`
 * standardises them. Throws `RopeConfigError` naming the field at fault. Never mutates `config`.
 */
export function resolveRopeParameters(
  config: RawRopeConfig,
  options: ResolveRopeOptions = {},
): RopeParameters {
  const fromScaling = config.rope_scaling != null && Object.keys(config.rope_scaling).length > 0;
  const dictName = fromScaling ? 'rope_scaling' : 'rope_parameters';
  const dict: RawRopeParameters = (fromScaling ? config.rope_scaling : config.rope_parameters) ?? {};
  const read = new FieldReader(dictName, dict);

  const typeKey = dict.rope_type !== undefined ? 'rope_type' : 'type';
  const ropeType = dict.rope_type ?? dict.type ?? 'default';
  if (!(ROPE_TYPES as readonly string[]).includes(ropeType)) {
    throw new RopeConfigError(
      `${dictName}.${typeKey}`,
      `is "${ropeType}"; supported: ${ROPE_TYPES.join(', ')}`,
    );
  }

  const ropeTheta = dict.rope_theta ?? config.rope_theta ?? options.defaultRopeTheta ?? 10000;
  requirePositive(dict.rope_theta !== undefined ? `${dictName}.rope_theta` : 'rope_theta', ropeTheta);
  const partialRotaryFactor = dict.partial_rotary_factor ?? config.partial_rotary_factor ?? 1;
  if (!(typeof partialRotaryFactor === 'number' && partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
    throw new RopeConfigError(
      'partial_rotary_factor',
      `must be a number in (0, 1], got ${partialRotaryFactor}`,
    );
  }
  const headDim = resolveHeadDim(config);
  const rotaryDim = Math.trunc(headDim * partialRotaryFactor);
  if (rotaryDim < 1 || 2 * Math.ceil(rotaryDim / 2) > headDim) {
    throw new RopeConfigError(
      'partial_rotary_factor',
      `gives a rotary dimension of ${rotaryDim} for head_dim ${headDim}; it must be at least 1 and, rounded up to even, fit the head`,
    );
  }
  const maxPositionEmbeddings = config.max_position_embeddings;
  if (maxPositionEmbeddings !== undefined)
    requirePositiveInteger('max_position_embeddings', maxPositionEmbeddings);
  const common: RopeCommon = { ropeTheta, headDim, partialRotaryFactor, rotaryDim, maxPositionEmbeddings };
  // HF's dynamic base uses the exponent dim / (dim - 2), and its yarn ramp has dim // 2 entries
  if ((ropeType === 'dynamic' && rotaryDim <= 2) || (ropeType === 'yarn' && rotaryDim % 2 === 1)) {
    throw new RopeConfigError(
      'partial_rotary_factor',
      `gives a rotary dimension of ${rotaryDim}, which rope_type "${ropeType}" cannot use`,
    );
  }

  const requireMaxPositions = (): number => {
    if (maxPositionEmbeddings === undefined) {
      throw new RopeConfigError('max_position_embeddings', `is required by rope_type "${ropeType}"`);
    }
    return maxPositionEmbeddings;
  };
  // HF's standardisation: a top-level original_max_position_embeddings (Phi-3) wins, then the dict's,
  // then max_position_embeddings.
  const originalMaxPositions = (): number => {
    if (config.original_max_position_embeddings !== undefined) {
      requirePositiveInteger('original_max_position_embeddings', config.original_max_position_embeddings);
      return config.original_max_position_embeddings;
    }
    return read.optionalInteger('original_max_position_embeddings') ?? requireMaxPositions();
  };

  switch (ropeType as RopeType) {
    case 'default':
      return { ...common, ropeType: 'default' };
    case 'linear':
      return { ...common, ropeType: 'linear', factor: read.factor() };
    case 'dynamic':
      return {
        ...common,
        ropeType: 'dynamic',
        factor: read.factor(),
        maxPositionEmbeddings: requireMaxPositions(),
      };
    case 'yarn': {
      const originalMaxPositionEmbeddings = originalMaxPositions();
      // HF reads `factor` unconditionally; only an explicit null falls back to the context-length ratio.
      const factor =
        dict.factor === null ? requireMaxPositions() / originalMaxPositionEmbeddings : read.factor();
      return {
        ...common,
        ropeType: 'yarn',
        factor,
        originalMaxPositionEmbeddings,
        attentionFactor: read.optionalPositive('attention_factor'),
        // HF: `beta_fast or 32`, `beta_slow or 1`
        betaFast: read.optionalPositive('beta_fast') ?? 32,
        betaSlow: read.optionalPositive('beta_slow') ?? 1,
        mscale: read.optionalNonNegative('mscale'),
        mscaleAllDim: read.optionalNonNegative('mscale_all_dim'),
        truncate: read.optionalBoolean('truncate') ?? true,
      };
    }
    case 'longrope': {
      const originalMaxPositionEmbeddings = originalMaxPositions();
      const frequencies = Math.ceil(rotaryDim / 2);
      return {
        ...common,
        ropeType: 'longrope',
        factor: read.optionalPositive('factor') ?? requireMaxPositions() / originalMaxPositionEmbeddings,
        originalMaxPositionEmbeddings,
        attentionFactor: read.optionalPositive('attention_factor'),
        shortFactor: read.factorList('short_factor', frequencies),
        longFactor: read.factorList('long_factor', frequencies),
      };
    }
    case 'llama3': {
      const lowFreqFactor = read.requiredPositive('low_freq_factor');
      const highFreqFactor = read.requiredPositive('high_freq_factor');
      if (!(highFreqFactor > lowFreqFactor)) {
        throw new RopeConfigError(
          `${dictName}.high_freq_factor`,
          `(${highFreqFactor}) must be greater than low_freq_factor (${lowFreqFactor})`,
        );
      }
      return {
        ...common,
        ropeType: 'llama3',
        factor: read.factor(),
        originalMaxPositionEmbeddings: originalMaxPositions(),
        lowFreqFactor,
        highFreqFactor,
      };
    }
  }
}

function resolveHeadDim(config: RawRopeConfig): number {
  if (config.head_dim) {
    requirePositiveInteger('head_dim', config.head_dim);
    return config.head_dim;
  }
  const { hidden_size: hiddenSize, num_attention_heads: heads } = config;
  if (hiddenSize === undefined || heads === undefined) {
    throw new RopeConfigError(
      'head_dim',
      'is missing, and so is hidden_size or num_attention_heads to derive it',
    );
  }
  requirePositiveInteger('hidden_size', hiddenSize);
  requirePositiveInteger('num_attention_heads', heads);
  const headDim = Math.floor(hiddenSize / heads);
  if (headDim < 1)
    throw new RopeConfigError('num_attention_heads', `(${heads}) exceeds hidden_size (${hiddenSize})`);
  return headDim;
}

/** Reads typed fields of one RoPE dict, naming `dict.field` in every error. */
class FieldReader {
  constructor(
    private readonly dictName: string,
    private readonly dict: RawRopeParameters,
  ) {}

  private name(key: keyof RawRopeParameters): string {
    return `${this.dictName}.${key}`;
  }

  factor(): number {
    const factor = this.dict.factor;
    if (factor == null)
      throw new RopeConfigError(this.name('factor'), `is required by rope_type "${this.type()}"`);
    requirePositive(this.name('factor'), factor);
    return factor;
  }

  requiredPositive(key: 'low_freq_factor' | 'high_freq_factor'): number {
    const value = this.dict[key];
    if (value == null) throw new RopeConfigError(this.name(key), `is required by rope_type "${this.type()}"`);
    requirePositive(this.name(key), value);
    return value;
  }

  optionalPositive(key: 'factor' | 'attention_factor' | 'beta_fast' | 'beta_slow'): number | undefined {
    const value = this.dict[key];
    if (value == null) return undefined;
    requirePositive(this.name(key), value);
    return value;
  }

  optionalNonNegative(key: 'mscale' | 'mscale_all_dim'): number | undefined {
    const value = this.dict[key];
    if (value == null) return undefined;
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new RopeConfigError(this.name(key), `must be a number >= 0, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  optionalInteger(key: 'original_max_position_embeddings'): number | undefined {
    const value = this.dict[key];
    if (value == null) return undefined;
    requirePositiveInteger(this.name(key), value);
    return value;
  }

  optionalBoolean(key: 'truncate'): boolean | undefined {
    const value = this.dict[key];
    if (value == null) return undefined;
    if (typeof value !== 'boolean')
      throw new RopeConfigError(this.name(key), `must be true or false, got ${value}`);
    return value;
  }

  factorList(key: 'short_factor' | 'long_factor', length: number): number[] {
    const list = this.dict[key];
    if (list == null) throw new RopeConfigError(this.name(key), `is required by rope_type "${this.type()}"`);
    if (!Array.isArray(list) || list.length !== length) {
      const got = Array.isArray(list) ? `${list.length} numbers` : JSON.stringify(list);
      throw new RopeConfigError(
        this.name(key),
        `must list ${length} numbers (rotary dimension / 2), got ${got}`,
      );
    }
    list.forEach((value, index) => {
      requirePositive(`${this.name(key)}[${index}]`, value);
    });
    return [...list];
  }

  private type(): string {
    return this.dict.rope_type ?? this.dict.type ?? 'default';
  }
}

function requirePositive(field: string, value: unknown): asserts value is number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new RopeConfigError(field, `must be a positive number, got ${JSON.stringify(value)}`);
  }
}

function requirePositiveInteger(field: string, value: unknown): asserts value is number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
    throw new RopeConfigError(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
}
