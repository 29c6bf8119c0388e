import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../test/decoder-fixtures.js';
import { createModelFromConfig, getModelFamily, MODEL_FAMILIES, parameterCountFromConfig } from './auto.js';
import type { RawConfig } from './config-fields.js';
import { UnknownModelTypeError } from './errors.js';

const paramCounts = readJson<Record<string, { config: RawConfig; num_parameters: number }>>(
  new URL('../../../fixtures/hf-reference/param-counts.json', import.meta.url).pathname,
);
const registered = new Set(MODEL_FAMILIES.map((family) => family.modelType));
const countable = Object.entries(paramCounts).filter(([, { config }]) =>
  registered.has(config.model_type as string),
);

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the family registry', () => {
  it('builds every model of param-counts.json it knows from its config alone, with HF num_parameters', async () => {
    await expectNoLeak(() => {
      expect(countable.map(([name]) => name)).toEqual(
        expect.arrayContaining([
          'gpt2',
          'gpt2-medium',
          'gpt2-xl',
          'llama-2-7b',
          'tinyllama-1.1b',
          'smollm-135m',
          'llama-3.2-1b',
        ]),
      );
      for (const [name, { config, num_parameters }] of countable) {
        expect({ name, count: parameterCountFromConfig(config) }).toEqual({ name, count: num_parameters });
      }
    });
  });

  it('builds a Llama-2-7B without holding a byte of weights', () => {
    const { model } = createModelFromConfig(paramCounts['llama-2-7b']!.config);
    expect(model.parameters().every((parameter) => !parameter.isSet)).toBe(true);
  });

  it('names the supported model types for an unknown or missing model_type', () => {
    expect(() => getModelFamily('rwkv')).toThrow(UnknownModelTypeError);
    const supported = MODEL_FAMILIES.map((family) => family.modelType).join(', ');
    expect(() => getModelFamily('rwkv')).toThrow(
      `unknown model_type "rwkv"; supported model types: ${supported}`,
    );
    for (const type of [
      'gpt2',
      'llama',
      'qwen2',
      'mistral',
      'gemma',
      'gemma2',
      'bart',
      'marian',
      'transformer',
      'qwen3',
      'gpt_neox',
      'phi3',
      't5',
    ]) {
      expect(supported.split(', ')).toContain(type);
    }
    expect(() => createModelFromConfig({ hidden_size: 8 })).toThrow(/model_type is missing/);
  });
});
