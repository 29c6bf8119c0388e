import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RopeConfigError } from './errors.js';
import { ropeInverseFrequencies } from './rope-frequencies.js';
import { type RawRopeConfig, resolveRopeParameters } from './rope-parameters.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('resolveRopeParameters', () => {
  it('reads the llama fixture (transformers 5 rope_parameters)', () => {
    const config = JSON.parse(
      readFileSync(new URL('../../../fixtures/hf-reference/llama/config.json', import.meta.url), 'utf8'),
    );
    expect(resolveRopeParameters(config)).toEqual({
      ropeType: 'default',
      ropeTheta: 10000,
      headDim: 16,
      partialRotaryFactor: 1,
      rotaryDim: 16,
      maxPositionEmbeddings: 128,
    });
  });

  it('gives identical results for the 4.x and 5 spellings', () => {
    const llama3 = {
      factor: 8.0,
      low_freq_factor: 1.0,
      high_freq_factor: 4.0,
      original_max_position_embeddings: 8192,
    };
    const common = { hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 131072 };
    const spellings: RawRopeConfig[] = [
      { ...common, rope_theta: 500000.0, rope_scaling: { rope_type: 'llama3', ...llama3 } },
      { ...common, rope_theta: 500000.0, rope_scaling: { type: 'llama3', ...llama3 } },
      { ...common, rope_parameters: { rope_type: 'llama3', rope_theta: 500000.0, ...llama3 } },
    ];
    const resolved = spellings.map((config) => resolveRopeParameters(deepFreeze(config)));
    expect(resolved[1]).toEqual(resolved[0]);
    expect(resolved[2]).toEqual(resolved[0]);
    expect(resolved[0]).toMatchObject({
      ropeType: 'llama3',
      ropeTheta: 500000,
      headDim: 128,
      rotaryDim: 128,
      factor: 8,
    });
    const frequencies = resolved.map((parameters) => ropeInverseFrequencies(parameters).inverseFrequencies);
    expect(frequencies[1]).toEqual(frequencies[0]);
    expect(frequencies[2]).toEqual(frequencies[0]);
  });

  it('defaults to plain RoPE with theta 10000 (or the given default) and derives head_dim', () => {
    expect(resolveRopeParameters({ hidden_size: 64, num_attention_heads: 4 })).toMatchObject({
      ropeType: 'default',
      ropeTheta: 10000,
      headDim: 16,
    });
    expect(
      resolveRopeParameters({ head_dim: 8, rope_scaling: null }, { defaultRopeTheta: 1e6 }).ropeTheta,
    ).toBe(1e6);
    // a null head_dim falls back to hidden_size / num_attention_heads, as HF's `or`
    expect(resolveRopeParameters({ head_dim: null, hidden_size: 96, num_attention_heads: 3 }).headDim).toBe(
      32,
    );
  });

  it('reads partial_rotary_factor from the RoPE dict or the top level and truncates the dimension', () => {
    expect(resolveRopeParameters({ head_dim: 80, partial_rotary_factor: 0.4 }).rotaryDim).toBe(32);
    const nested = resolveRopeParameters({
      head_dim: 128,
      rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.25 },
    });
    expect(nested).toMatchObject({ partialRotaryFactor: 0.25, rotaryDim: 32 });
    // int(128 * 0.4) = 51: HF rounds an odd rotary dimension up to 52 channels
    const odd = resolveRopeParameters({ head_dim: 128, partial_rotary_factor: 0.4 });
    expect(odd.rotaryDim).toBe(51);
    expect(ropeInverseFrequencies(odd).inverseFrequencies.length).toBe(26);
  });

  it('fills the yarn defaults and takes the pretraining length from max_position_embeddings when absent', () => {
    const yarn = resolveRopeParameters({
      head_dim: 64,
      max_position_embeddings: 4096,
      rope_parameters: { rope_type: 'yarn', factor: 2 },
    });
    expect(yarn).toMatchObject({
      betaFast: 32,
      betaSlow: 1,
      truncate: true,
      originalMaxPositionEmbeddings: 4096,
    });
    const derived = resolveRopeParameters({
      head_dim: 64,
      max_position_embeddings: 16384,
      rope_parameters: { rope_type: 'yarn', factor: null, original_max_position_embeddings: 4096 },
    });
    expect(derived).toMatchObject({ factor: 4 });
  });

  it("gives Phi-3's top-level original_max_position_embeddings priority and derives longrope's factor", () => {
    const factors = Array.from({ length: 48 }, () => 1);
    const longrope = resolveRopeParameters({
      hidden_size: 3072,
      num_attention_heads: 32,
      max_position_embeddings: 131072,
      original_max_position_embeddings: 4096,
      rope_scaling: {
        type: 'longrope',
        short_factor: factors,
        long_factor: factors,
        original_max_position_embeddings: 2048,
      },
    });
    expect(longrope).toMatchObject({ ropeType: 'longrope', originalMaxPositionEmbeddings: 4096, factor: 32 });
  });

  it('rejects bad configs with errors that name the field', () => {
    const cases: [RawRopeConfig, RegExp][] = [
      [
        { head_dim: 8, rope_parameters: { rope_type: 'mrope' } },
        /rope_parameters.rope_type must be "default", "linear", "dynamic", "yarn", "longrope" or "llama3", got "mrope"/,
      ],
      [{ head_dim: 8, rope_scaling: { type: 'su' } }, /rope_scaling.type must be .* got "su"/],
      [
        { head_dim: 8, rope_scaling: { type: 'linear' } },
        /rope_scaling.factor is required by rope_type "linear"/,
      ],
      [
        { head_dim: 8, max_position_embeddings: 64, rope_parameters: { rope_type: 'dynamic' } },
        /rope_parameters.factor is required by rope_type "dynamic"/,
      ],
      [
        { head_dim: 8, max_position_embeddings: 64, rope_parameters: { rope_type: 'yarn' } },
        /rope_parameters.factor is required by rope_type "yarn"/,
      ],
      [
        { head_dim: 8, rope_parameters: { rope_type: 'dynamic', factor: 2 } },
        /max_position_embeddings is required by rope_type "dynamic"/,
      ],
      [
        { head_dim: 8, rope_parameters: { rope_type: 'linear', factor: -2 } },
        /rope_parameters.factor must be a positive number, got -2/,
      ],
      [
        {
          head_dim: 8,
          max_position_embeddings: 64,
          rope_parameters: { rope_type: 'longrope', short_factor: [1, 1, 1, 1], long_factor: [1, 1] },
        },
        /rope_parameters.long_factor must be a list of 4 positive numbers \(rotary dimension \/ 2\), got \[1,1\]/,
      ],
      [
        {
          head_dim: 8,
          max_position_embeddings: 64,
          rope_parameters: { rope_type: 'longrope', short_factor: [1, 1, 1, 1] },
        },
        /rope_parameters.long_factor is required/,
      ],
      [
        {
          head_dim: 8,
          rope_parameters: {
            rope_type: 'llama3',
            factor: 8,
            high_freq_factor: 4,
            original_max_position_embeddings: 64,
          },
        },
        /rope_parameters.low_freq_factor is required by rope_type "llama3"/,
      ],
      [
        {
          head_dim: 8,
          rope_parameters: {
            rope_type: 'llama3',
            factor: 8,
            low_freq_factor: 4,
            high_freq_factor: 1,
            original_max_position_embeddings: 64,
          },
        },
        /rope_parameters.high_freq_factor \(1\) must be greater than low_freq_factor \(4\)/,
      ],
      [{ head_dim: 8, partial_rotary_factor: 1.5 }, /partial_rotary_factor must be a number in \(0, 1\]/],
      [{ head_dim: 8, partial_rotary_factor: 0.05 }, /partial_rotary_factor gives a rotary dimension of 0/],
      [{ head_dim: 8, rope_theta: -1 }, /rope_theta must be a positive number/],
      [{ head_dim: 7.5 }, /head_dim must be a positive integer up to 131072, got 7.5/],
      // wrong JSON types are errors naming the field, never silently ignored
      [
        { head_dim: 8, rope_parameters: [] as unknown as null },
        /rope_parameters must be a JSON object, got \[\]/,
      ],
      [
        { head_dim: 8, rope_scaling: 'linear' as unknown as null },
        /rope_scaling must be a JSON object, got "linear"/,
      ],
      [
        { head_dim: 8, rope_parameters: { rope_type: 3 as unknown as string } },
        /rope_parameters.rope_type must be/,
      ],
      [
        { head_dim: 8, rope_theta: '1e4' as unknown as number },
        /rope_theta must be a positive number, got "1e4"/,
      ],
      [
        { head_dim: 8, max_position_embeddings: 2 ** 30 },
        /max_position_embeddings must be a positive integer up to 16777216, got 1073741824/,
      ],
      [{ hidden_size: 64 }, /head_dim is missing, and so is hidden_size or num_attention_heads/],
      [{ head_dim: 8, max_position_embeddings: 0 }, /max_position_embeddings must be a positive integer/],
      [
        {
          head_dim: 10,
          partial_rotary_factor: 0.5,
          max_position_embeddings: 64,
          rope_parameters: { rope_type: 'yarn', factor: 2 },
        },
        /rotary dimension of 5, which rope_type "yarn" cannot use/,
      ],
      [
        {
          head_dim: 8,
          rope_parameters: { rope_type: 'yarn', factor: 2, truncate: 'yes' as unknown as boolean },
          max_position_embeddings: 8,
        },
        /rope_parameters.truncate must be true or false/,
      ],
    ];
    for (const [config, message] of cases) {
      expect(() => resolveRopeParameters(config)).toThrow(RopeConfigError);
      expect(() => resolveRopeParameters(config)).toThrow(message);
    }
  });
});
