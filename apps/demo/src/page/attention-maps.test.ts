import { fileURLToPath } from 'node:url';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { fromPretrained } from '@tsformer/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionMaps } from './attention-maps.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

beforeAll(async () => {
  await useBackend('wasm');
});

/** Every row of every map sums to 1 (a softmax over the keys) and is `keys` long. */
function expectDistributions(maps: Float32Array[][], queries: number, keys: number): void {
  for (const layer of maps) {
    for (const map of layer) {
      expect(map.length).toBe(queries * keys);
      for (let query = 0; query < queries; query++) {
        const row = map.slice(query * keys, (query + 1) * keys);
        expect(row.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 5);
      }
    }
  }
}

describe('attentionMaps', () => {
  it('a decoder-only model: causal self-attention per layer and head', async () => {
    await expectNoLeak(async () => {
      const pretrained = await fromPretrained(`${ROOT}models/tiny-llama-docs`);
      const ids = pretrained.tokenizer!.encode('Return the number of elements');
      const [self, ...rest] = await attentionMaps(pretrained, ids);
      pretrained.model.dispose();
      expect(rest).toEqual([]);
      expect(self!.name).toBe('self-attention');
      expect(self!.maps).toHaveLength(6);
      expect(self!.maps[0]).toHaveLength(6);
      expectDistributions(self!.maps, ids.length, ids.length);
      // No query sees a later key.
      const map = self!.maps[3]![2]!;
      for (let query = 0; query < ids.length; query++) {
        for (let key = query + 1; key < ids.length; key++) expect(map[query * ids.length + key]).toBe(0);
      }
    });
  });

  it('an encoder-decoder: cross-attention (target over source), decoder and encoder self-attention', async () => {
    await expectNoLeak(async () => {
      const pretrained = await fromPretrained(`${ROOT}fixtures/hf-reference/bart`);
      const source = [0, 414, 232, 328, 2];
      const target = [2, 0, 414];
      const kinds = await attentionMaps(pretrained, source, target);
      pretrained.model.dispose();
      expect(kinds.map((kind) => kind.name)).toEqual([
        'cross-attention',
        'self-attention',
        'encoder self-attention',
      ]);
      const [cross, decoder, encoder] = kinds;
      expect([cross!.queryIds, cross!.keyIds]).toEqual([target, source]);
      expectDistributions(cross!.maps, target.length, source.length);
      expectDistributions(decoder!.maps, target.length, target.length);
      expectDistributions(encoder!.maps, source.length, source.length);
    });
  });
});
