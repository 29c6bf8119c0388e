import { ConfigFields, fieldRules, type RawConfig } from '@tsformer/core-tensor';
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
  const top = new ConfigFields(config as RawConfig, 'RoPE config', { error: ropeError });
  const scaling = top.nested('rope_scaling');
  const parameters = top.nested('rope_parameters');
  const fromScaling = scaling !== null && Object.keys(scaling.raw).length > 0;
  const dict =
    (fromScaling ? scaling : parameters) ??
    new ConfigFields({}, top.source, { error: ropeError, prefix: 'rope_parameters.' });
  const read = new RopeDictReader(dict);

  const ropeType = read.ropeType();
  // The dict's value wins over the top-level one (HF's standardisation); both are checked.
  const fraction = fieldRules.numberIn(0, 1, { min: true });
  const ropeTheta = dict.positiveNumber(
    'rope_theta',
    top.positiveNumber('rope_theta', options.defaultRopeTheta ?? 10000),
  );
  const partialRotaryFactor = dict.read(
    'partial_rotary_factor',
    fraction,
    top.read('partial_rotary_factor', fraction, 1),
  );
  const headDim = resolveHeadDim(top);
  const rotaryDim = Math.trunc(headDim * partialRotaryFactor);
  if (rotaryDim < 1 || 2 * Math.ceil(rotaryDim / 2) > headDim) {
    throw new RopeConfigError(
      'partial_rotary_factor',
      `gives a rotary dimension of ${rotaryDim} for head_dim ${headDim}; it must be at least 1 and, rounded up to even, fit the head`,
    );
  }
  const maxPositionEmbeddings = top.optionalSize('max_position_embeddings', 'positions') ?? undefined;
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
  const originalMaxPositions = (): number =>
    top.optionalSize('original_max_position_embeddings', 'positions') ??
    dict.optionalSize('original_max_position_embeddings', 'positions') ??
    requireMaxPositions();

  switch (ropeType) {
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
        dict.raw.factor === null ? requireMaxPositions() / originalMaxPositionEmbeddings : read.factor();
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
        truncate: dict.boolean('truncate', true),
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
        dict.fail(
          'high_freq_factor',
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

function ropeError(field: string, problem: string): RopeConfigError {
  return new RopeConfigError(field, problem);
}

/** `head_dim`, or `hidden_size / num_attention_heads` (rounded down) when the config has none. */
function resolveHeadDim(top: ConfigFields): number {
  const headDim = top.optionalSize('head_dim', 'width');
  if (headDim !== null) return headDim;
  if (!top.has('hidden_size') || !top.has('num_attention_heads')) {
    top.fail('head_dim', 'is missing, and so is hidden_size or num_attention_heads to derive it');
  }
  const hiddenSize = top.size('hidden_size', 'width', 0);
  const heads = top.size('num_attention_heads', 'heads', 0);
  if (heads > hiddenSize) top.fail('num_attention_heads', `(${heads}) exceeds hidden_size (${hiddenSize})`);
  return Math.floor(hiddenSize / heads);
}

/** The fields of one RoPE dict that depend on its `rope_type`, read through the config-field kit. */
class RopeDictReader {
  constructor(private readonly dict: ConfigFields) {}

  /** `rope_type`, or 4.x's `type`; `default` when neither is given. */
  ropeType(): RopeType {
    const key = this.dict.has('rope_type') ? 'rope_type' : 'type';
    return this.dict.oneOf(key, ROPE_TYPES, 'default');
  }

  factor(): number {
    return this.requiredPositive('factor');
  }

  requiredPositive(key: 'factor' | 'low_freq_factor' | 'high_freq_factor'): number {
    this.require(key);
    return this.dict.positiveNumber(key, 0);
  }

  optionalPositive(key: 'factor' | 'attention_factor' | 'beta_fast' | 'beta_slow'): number | undefined {
    return this.dict.optional(key, fieldRules.positiveNumber) ?? undefined;
  }

  optionalNonNegative(key: 'mscale' | 'mscale_all_dim'): number | undefined {
    return this.dict.optional(key, fieldRules.nonNegativeNumber) ?? undefined;
  }

  factorList(key: 'short_factor' | 'long_factor', length: number): number[] {
    this.require(key);
    const list = fieldRules.list(
      fieldRules.positiveNumber,
      `a list of ${length} positive numbers (rotary dimension / 2)`,
      { length },
    );
    return [...this.dict.read(key, list, [])];
  }

  private require(key: string): void {
    if (!this.dict.has(key)) this.dict.fail(key, `is required by rope_type "${this.ropeType()}"`);
  }
}
