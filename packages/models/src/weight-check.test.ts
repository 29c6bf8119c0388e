// A family's loadWeights with `dryRun`: the checkpoint is matched against the model by the same rules
// loading uses (names, the family's exceptions, shapes) without reading a tensor.
import { readFileSync } from 'node:fs';
import { useBackend, WeightLoadingError, type WeightSource } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { getModelFamily } from './auto.js';
import { folderFiles } from './folder-files.js';
import { openModelWeights } from './model-weights.js';

const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;

beforeAll(async () => {
  await useBackend('wasm');
});

/** A source with the fixture's names and shapes, edited, whose tensors cannot be read. */
function headerOnly(
  source: WeightSource,
  edit: (shapes: Map<string, readonly number[]>) => void,
): WeightSource {
  const shapes = new Map(source.names().map((name) => [name, source.shape(name)] as const));
  edit(shapes);
  return {
    location: source.location,
    names: () => [...shapes.keys()],
    shape: (name) => shapes.get(name)!,
    read: () => Promise.reject(new Error('a dry run must not read tensors')),
  };
}

describe('family.loadWeights with dryRun', () => {
  it.each(['gpt2', 'llama', 'qwen3', 'gpt_neox', 'bart', 'marian'])(
    '%s: matches the checkpoint, reads nothing, and reports what loading would',
    async (fixture) => {
      const dir = `${FIXTURES}${fixture}`;
      const raw = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
      const family = getModelFamily(raw.model_type);
      const weights = await openModelWeights(folderFiles(dir));
      await expectNoLeak(async () => {
        const model = family.createModel(family.resolveConfig(raw));
        try {
          const fits = await family.loadWeights(
            model,
            headerOnly(weights, () => {}),
            { dryRun: true },
          );
          expect(fits.missing).toEqual([]);
          expect(fits.unexpected).toEqual([]);
          expect(fits.loaded.length).toBeGreaterThan(0);
          // nothing loaded: only Marian's sinusoid tables, computed when the model is built, hold values
          const computed = fixture === 'marian' ? 2 : 0;
          expect(model.parameters().filter((parameter) => parameter.isSet).length).toBe(computed);

          // two matrices that are not square, so that a transposed one is mis-shaped
          const [first, second] = weights.names().filter((name) => {
            const shape = weights.shape(name);
            return shape.length === 2 && shape[0] !== shape[1];
          });
          const broken = headerOnly(weights, (shapes) => {
            shapes.delete(first!);
            shapes.set(second!, [...shapes.get(second!)!].reverse());
            shapes.set('extra.weight', [1]);
          });
          const checked = await family.loadWeights(model, broken, { dryRun: true }).catch((e) => e);
          const loaded = await family.loadWeights(model, broken).catch((e) => e);
          expect(checked).toBeInstanceOf(WeightLoadingError);
          expect(checked.message).toBe(loaded.message);
          expect(checked.message).toMatch(/missing 1: .*unexpected 1: extra\.weight; mis-shaped 1: /);
        } finally {
          model.dispose();
        }
      });
    },
  );
});
