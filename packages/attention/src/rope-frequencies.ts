import type { RopeParameters } from './rope-parameters.js';

/** Inverse frequencies of one RoPE setting and the factor HF multiplies cos and sin by. */
export interface RopeFrequencies {
  /** `[ceil(rotaryDim / 2)]`, the float32 values HF's `inv_freq` buffer holds. */
  inverseFrequencies: Float32Array;
  /** HF's `attention_scaling` (1 except for yarn and longrope). */
  attentionScaling: number;
}

// HF computes these with float32 torch ops on Python floats: `f` rounds wherever torch rounds to float32
// (a Python scalar meeting a float32 tensor is itself rounded to float32 first), and `scalar / tensor` is
// torch's `tensor.reciprocal() * scalar`.
const f = Math.fround;
const reciprocal = (x: number): number => f(1 / x);

/**
 * HF's `ROPE_INIT_FUNCTIONS[ropeType](config, device, seq_len)` (transformers 5 `modeling_rope_utils.py`,
 * default RoPE from `LlamaRotaryEmbedding.compute_default_rope_parameters`), reproducing torch's float32
 * arithmetic. `sequenceLength` (max position + 1) matters to `dynamic`, which rescales beyond
 * `max_position_embeddings`, and `longrope`, which switches to `long_factor` beyond the pretraining length.
 */
export function ropeInverseFrequencies(parameters: RopeParameters, sequenceLength?: number): RopeFrequencies {
  const { rotaryDim, ropeTheta } = parameters;
  switch (parameters.ropeType) {
    case 'default':
      return { inverseFrequencies: defaultInverseFrequencies(ropeTheta, rotaryDim), attentionScaling: 1 };
    case 'linear': {
      const factor = f(parameters.factor);
      const inverse = defaultInverseFrequencies(ropeTheta, rotaryDim).map((value) => f(value / factor));
      return { inverseFrequencies: inverse, attentionScaling: 1 };
    }
    case 'dynamic':
      return {
        inverseFrequencies: dynamicInverseFrequencies(parameters, sequenceLength),
        attentionScaling: 1,
      };
    case 'yarn':
      return yarnFrequencies(parameters);
    case 'longrope':
      return longRopeFrequencies(parameters, sequenceLength);
    case 'llama3':
      return { inverseFrequencies: llama3InverseFrequencies(parameters), attentionScaling: 1 };
  }
}

/** `base ** (arange(0, dim, 2).float() / dim)`, one float32 power per frequency. */
function basePowers(base: number, dim: number): Float32Array {
  const powers = new Float32Array(Math.ceil(dim / 2));
  for (let i = 0; i < powers.length; i++) powers[i] = f(f(base) ** f((2 * i) / dim));
  return powers;
}

function defaultInverseFrequencies(base: number, dim: number): Float32Array {
  return basePowers(base, dim).map(reciprocal);
}

/**
 * Dynamic NTK: below `max_position_embeddings` HF keeps the default frequencies (computed at init from
 * Python floats); beyond it, `dynamic_rope_update` passes `seq_len` as an int64 tensor, so the new base
 * is computed in float32.
 */
function dynamicInverseFrequencies(
  parameters: Extract<RopeParameters, { ropeType: 'dynamic' }>,
  sequenceLength = 0,
): Float32Array {
  const { ropeTheta, rotaryDim: dim, factor, maxPositionEmbeddings } = parameters;
  if (sequenceLength <= maxPositionEmbeddings) return defaultInverseFrequencies(ropeTheta, dim);
  const stretch = f(f(f(f(factor) * sequenceLength) / maxPositionEmbeddings) - f(factor - 1));
  const base = f(f(ropeTheta) * f(stretch ** f(dim / (dim - 2))));
  return defaultInverseFrequencies(base, dim);
}

function yarnFrequencies(parameters: Extract<RopeParameters, { ropeType: 'yarn' }>): RopeFrequencies {
  const {
    ropeTheta: base,
    rotaryDim: dim,
    factor,
    originalMaxPositionEmbeddings,
    betaFast,
    betaSlow,
  } = parameters;
  const { mscale, mscaleAllDim, truncate } = parameters;
  const magnitudeScale = (scale: number, m = 1): number => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  const attentionScaling =
    parameters.attentionFactor ??
    (mscale && mscaleAllDim
      ? magnitudeScale(factor, mscale) / magnitudeScale(factor, mscaleAllDim)
      : magnitudeScale(factor));

  // Dimension index at which a frequency completes `rotations` turns over the pretraining length.
  const correctionDim = (rotations: number): number =>
    (dim * Math.log(originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = correctionDim(betaFast);
  let high = correctionDim(betaSlow);
  if (truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001; // HF: prevent singularity

  const powers = basePowers(base, dim);
  const inverse = new Float32Array(powers.length);
  for (let i = 0; i < powers.length; i++) {
    const extrapolation = reciprocal(powers[i]!);
    const interpolation = reciprocal(f(f(factor) * powers[i]!));
    const ramp = Math.min(Math.max(f(f(i - f(low)) / f(high - low)), 0), 1);
    const extrapolationFactor = f(1 - ramp);
    inverse[i] = f(f(interpolation * f(1 - extrapolationFactor)) + f(extrapolation * extrapolationFactor));
  }
  return { inverseFrequencies: inverse, attentionScaling };
}

function longRopeFrequencies(
  parameters: Extract<RopeParameters, { ropeType: 'longrope' }>,
  sequenceLength?: number,
): RopeFrequencies {
  const { ropeTheta, rotaryDim, factor, originalMaxPositionEmbeddings, shortFactor, longFactor } = parameters;
  const attentionScaling =
    parameters.attentionFactor ??
    (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositionEmbeddings)));
  const extension =
    sequenceLength !== undefined && sequenceLength > originalMaxPositionEmbeddings ? longFactor : shortFactor;
  const inverse = basePowers(ropeTheta, rotaryDim).map((power, i) => reciprocal(f(f(extension[i]!) * power)));
  return { inverseFrequencies: inverse, attentionScaling };
}

function llama3InverseFrequencies(parameters: Extract<RopeParameters, { ropeType: 'llama3' }>): Float32Array {
  const { ropeTheta, rotaryDim, factor, originalMaxPositionEmbeddings: oldContext } = parameters;
  const { lowFreqFactor, highFreqFactor } = parameters;
  const lowFreqWavelength = f(oldContext / lowFreqFactor);
  const highFreqWavelength = f(oldContext / highFreqFactor);
  return defaultInverseFrequencies(ropeTheta, rotaryDim).map((inverse) => {
    const wavelength = f(reciprocal(inverse) * f(2 * Math.PI));
    // long wavelengths are divided by `factor`, short ones kept, medium ones interpolated smoothly
    const scaled = wavelength > lowFreqWavelength ? f(inverse / f(factor)) : inverse;
    const isMedium = !(wavelength < highFreqWavelength) && !(wavelength > lowFreqWavelength);
    if (!isMedium) return scaled;
    const smooth = f(
      f(f(reciprocal(wavelength) * oldContext) - f(lowFreqFactor)) / f(highFreqFactor - lowFreqFactor),
    );
    return f(f(f(f(1 - smooth) * scaled) / f(factor)) + f(smooth * scaled));
  });
}
