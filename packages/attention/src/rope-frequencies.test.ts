import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ropeInverseFrequencies } from './rope-frequencies.js';
import { type RawRopeConfig, resolveRopeParameters } from './rope-parameters.js';

/** PyTorch's own float32 results (scripts/torch-rope-reference.py). */
interface TorchCase {
  name: string;
  config: RawRopeConfig;
  sequence_length: number | null;
  inverse_frequencies: number[];
  attention_scaling: number;
}
const torchCases: TorchCase[] = JSON.parse(
  readFileSync(new URL('../test-data/torch-rope-reference.json', import.meta.url), 'utf8'),
).cases;

/** Distance to the next float32 above |x|. */
function float32Ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
}

function expectRelativelyClose(
  actual: ArrayLike<number>,
  expected: number[],
  tolerance: number,
  label: string,
): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const relative = Math.abs(actual[i]! - expected[i]!) / Math.abs(expected[i]!);
    if (!(relative <= tolerance))
      throw new Error(`${label}[${i}]: ${actual[i]} vs ${expected[i]} (relative ${relative})`);
  }
}

describe('ropeInverseFrequencies against PyTorch float32', () => {
  for (const torchCase of torchCases) {
    const label = `${torchCase.name}${torchCase.sequence_length ? ` at length ${torchCase.sequence_length}` : ''}`;
    it(`reproduces ${label} to the float32 bit, or within the one ulp torch's pow may be off`, () => {
      const parameters = resolveRopeParameters(torchCase.config);
      const { inverseFrequencies, attentionScaling } = ropeInverseFrequencies(
        parameters,
        torchCase.sequence_length ?? undefined,
      );
      const expected = torchCase.inverse_frequencies.map(Math.fround);
      expect(inverseFrequencies.length).toBe(expected.length);
      let exact = 0;
      expected.forEach((value, i) => {
        expect(Math.abs(inverseFrequencies[i]! - value), `${label} [${i}]`).toBeLessThanOrEqual(
          float32Ulp(value),
        );
        if (inverseFrequencies[i] === value) exact++;
      });
      expect(exact).toBeGreaterThanOrEqual(expected.length - 1);
      expect(attentionScaling).toBe(torchCase.attention_scaling);
    });
  }
});

// Each scaling written out in float64 from its paper/HF description, independently of the code under test.
const defaultFrequencies = (theta: number, dim: number): number[] =>
  Array.from({ length: Math.ceil(dim / 2) }, (_, i) => theta ** (-(2 * i) / dim));

function yarnReference(
  theta: number,
  dim: number,
  scale: number,
  originalLength: number,
  { betaFast = 32, betaSlow = 1, truncate = true } = {},
): number[] {
  const correction = (rotations: number) =>
    (dim * Math.log(originalLength / (2 * Math.PI * rotations))) / (2 * Math.log(theta));
  const low = Math.max(truncate ? Math.floor(correction(betaFast)) : correction(betaFast), 0);
  let high = Math.min(truncate ? Math.ceil(correction(betaSlow)) : correction(betaSlow), dim - 1);
  if (high === low) high += 0.001;
  return defaultFrequencies(theta, dim).map((extrapolated, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    return extrapolated * (ramp / scale + (1 - ramp));
  });
}

function llama3Reference(
  theta: number,
  dim: number,
  scale: number,
  low: number,
  high: number,
  length: number,
) {
  return defaultFrequencies(theta, dim).map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < length / high) return frequency;
    if (wavelength > length / low) return frequency / scale;
    const smooth = (length / wavelength - low) / (high - low);
    return ((1 - smooth) * frequency) / scale + smooth * frequency;
  });
}

describe('ropeInverseFrequencies against float64 formulas', () => {
  const tolerance = 2e-6;

  it('default and linear', () => {
    for (const [theta, headDim] of [
      [10000, 64],
      [500000, 128],
      [1e6, 96],
    ] as const) {
      const plain = ropeInverseFrequencies(resolveRopeParameters({ head_dim: headDim, rope_theta: theta }));
      expectRelativelyClose(
        plain.inverseFrequencies,
        defaultFrequencies(theta, headDim),
        tolerance,
        `default ${theta}`,
      );
      expect(plain.attentionScaling).toBe(1);
      const linear = ropeInverseFrequencies(
        resolveRopeParameters({
          head_dim: headDim,
          rope_theta: theta,
          rope_scaling: { type: 'linear', factor: 3 },
        }),
      );
      const expected = defaultFrequencies(theta, headDim).map((x) => x / 3);
      expectRelativelyClose(linear.inverseFrequencies, expected, tolerance, `linear ${theta}`);
    }
  });

  it('dynamic NTK keeps the default frequencies up to max_position_embeddings and rescales the base beyond', () => {
    const config = {
      head_dim: 128,
      max_position_embeddings: 2048,
      rope_scaling: { type: 'dynamic', factor: 4 },
    };
    const parameters = resolveRopeParameters(config);
    for (const length of [undefined, 100, 2048]) {
      const { inverseFrequencies } = ropeInverseFrequencies(parameters, length);
      expectRelativelyClose(
        inverseFrequencies,
        defaultFrequencies(10000, 128),
        tolerance,
        `length ${length}`,
      );
    }
    for (const length of [2049, 5000, 20000]) {
      const base = 10000 * ((4 * length) / 2048 - 3) ** (128 / 126);
      const { inverseFrequencies } = ropeInverseFrequencies(parameters, length);
      expectRelativelyClose(inverseFrequencies, defaultFrequencies(base, 128), tolerance, `length ${length}`);
    }
  });

  it('yarn, with and without truncation, mscale and an explicit attention factor', () => {
    const yarn = (extra: object) =>
      ropeInverseFrequencies(
        resolveRopeParameters({
          head_dim: 128,
          rope_theta: 1e6,
          max_position_embeddings: 131072,
          rope_parameters: {
            rope_type: 'yarn',
            factor: 4,
            original_max_position_embeddings: 32768,
            ...extra,
          },
        }),
      );
    const plain = yarn({});
    expectRelativelyClose(plain.inverseFrequencies, yarnReference(1e6, 128, 4, 32768), tolerance, 'yarn');
    expect(plain.attentionScaling).toBeCloseTo(0.1 * Math.log(4) + 1, 14);

    const untruncated = yarn({ truncate: false, beta_fast: 16, beta_slow: 2 });
    const expected = yarnReference(1e6, 128, 4, 32768, { betaFast: 16, betaSlow: 2, truncate: false });
    expectRelativelyClose(untruncated.inverseFrequencies, expected, tolerance, 'yarn untruncated');

    const magnitude = (m: number) => 0.1 * m * Math.log(4) + 1;
    expect(yarn({ mscale: 0.6, mscale_all_dim: 1 }).attentionScaling).toBeCloseTo(
      magnitude(0.6) / magnitude(1),
      14,
    );
    expect(yarn({ mscale: 1 }).attentionScaling).toBeCloseTo(magnitude(1), 14); // needs both to use the ratio
    expect(yarn({ attention_factor: 1.25 }).attentionScaling).toBe(1.25);
  });

  it('longrope switches from short to long factors past the pretraining length', () => {
    const short = Array.from({ length: 16 }, (_, i) => 1 + i / 10);
    const long = Array.from({ length: 16 }, (_, i) => 2 + i);
    const parameters = resolveRopeParameters({
      head_dim: 32,
      max_position_embeddings: 65536,
      rope_parameters: {
        rope_type: 'longrope',
        short_factor: short,
        long_factor: long,
        original_max_position_embeddings: 4096,
      },
    });
    const base = defaultFrequencies(10000, 32);
    for (const [length, factors] of [
      [undefined, short],
      [4096, short],
      [4097, long],
    ] as const) {
      const result = ropeInverseFrequencies(parameters, length);
      const expected = base.map((x, i) => x / factors[i]!);
      expectRelativelyClose(result.inverseFrequencies, expected, tolerance, `longrope ${length}`);
      expect(result.attentionScaling).toBeCloseTo(Math.sqrt(1 + Math.log(16) / Math.log(4096)), 14);
    }
  });

  it('llama3 for Llama 3.1 and a second setting', () => {
    for (const [theta, dim, scale, low, high, length] of [
      [500000, 128, 8, 1, 4, 8192],
      [10000, 64, 4, 2, 8, 2048],
    ] as const) {
      const parameters = resolveRopeParameters({
        head_dim: dim,
        rope_theta: theta,
        rope_scaling: {
          rope_type: 'llama3',
          factor: scale,
          low_freq_factor: low,
          high_freq_factor: high,
          original_max_position_embeddings: length,
        },
      });
      const expected = llama3Reference(theta, dim, scale, low, high, length);
      expectRelativelyClose(
        ropeInverseFrequencies(parameters).inverseFrequencies,
        expected,
        tolerance,
        `llama3 ${theta}`,
      );
    }
  });

  it('partial rotary covers only the rotary dimension', () => {
    const parameters = resolveRopeParameters({
      hidden_size: 2560,
      num_attention_heads: 32,
      partial_rotary_factor: 0.4,
    });
    const { inverseFrequencies } = ropeInverseFrequencies(parameters);
    expectRelativelyClose(inverseFrequencies, defaultFrequencies(10000, 32), tolerance, 'partial');
  });
});
