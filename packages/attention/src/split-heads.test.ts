import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionInputError } from './errors.js';
import { mergeHeads, splitFusedQueryKeyValue, splitHeads } from './split-heads.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** `[batch, seq, features]` whose value at (b, s, f) is `1000·b + 100·s + f`: every element names itself. */
function numbered(batch: number, seq: number, features: number): tf.Tensor3D {
  const values = Array.from({ length: batch * seq * features }, (_, index) => {
    const f = index % features;
    const s = Math.floor(index / features) % seq;
    const b = Math.floor(index / (features * seq));
    return 1000 * b + 100 * s + f;
  });
  return tf.tensor3d(values, [batch, seq, features]);
}

/** Feature `f` of position (b, s) as `numbered` wrote it. */
const at = (b: number, s: number, f: number) => 1000 * b + 100 * s + f;

describe('splitHeads / mergeHeads', () => {
  it('puts feature head·headDim + d of each position at [batch, head, seq, d], and back', async () => {
    await expectNoLeak(() => {
      const projection = numbered(2, 3, 6);
      const heads = splitHeads(projection, 3, 2);
      expect(heads.shape).toEqual([2, 3, 3, 2]);
      const values = heads.arraySync();
      expect(values[1]![2]![0]).toEqual([at(1, 0, 4), at(1, 0, 5)]);
      const merged = mergeHeads(heads);
      expect(merged.arraySync()).toEqual(projection.arraySync());
      expect(() => splitHeads(projection, 4, 2)).toThrow(AttentionInputError);
      tf.dispose([projection, heads, merged]);
    });
  });

  it('splits and merges one position (a decode step) without a transpose, to the same layout', async () => {
    await expectNoLeak(() => {
      const projection = numbered(2, 1, 6);
      const heads = splitHeads(projection, 3, 2);
      expect(heads.shape).toEqual([2, 3, 1, 2]);
      expect(heads.arraySync()[1]![2]![0]).toEqual([at(1, 0, 4), at(1, 0, 5)]);
      const merged = mergeHeads(heads);
      expect(merged.shape).toEqual([2, 1, 6]);
      expect(merged.arraySync()).toEqual(projection.arraySync());
      tf.dispose([projection, heads, merged]);
    });
  });
});

describe('splitFusedQueryKeyValue', () => {
  it('reads [q | k | v] blocks (GPT-2 c_attn, Phi-3 qkv_proj)', async () => {
    await expectNoLeak(() => {
      const projection = numbered(1, 2, 3 * 2 * 3); // 2 heads of 3
      const { query, key, value } = splitFusedQueryKeyValue(projection, {
        heads: 2,
        headDim: 3,
        order: 'blocks',
      });
      expect(query.arraySync()[0]![1]![0]).toEqual([3, 4, 5].map((f) => at(0, 0, f)));
      expect(key.arraySync()[0]![0]![1]).toEqual([6, 7, 8].map((f) => at(0, 1, f)));
      expect(value.arraySync()[0]![1]![1]).toEqual([15, 16, 17].map((f) => at(0, 1, f)));
      tf.dispose([projection, query, key, value]);
    });
  });

  it('reads [q | k | v] blocks with fewer key/value heads (Phi-3 with grouped-query attention)', async () => {
    await expectNoLeak(() => {
      const projection = numbered(1, 1, (4 + 2 * 1) * 2); // 4 query heads, 1 kv head, headDim 2
      const parts = splitFusedQueryKeyValue(projection, {
        heads: 4,
        kvHeads: 1,
        headDim: 2,
        order: 'blocks',
      });
      expect(parts.query.shape).toEqual([1, 4, 1, 2]);
      expect(parts.key.shape).toEqual([1, 1, 1, 2]);
      expect(parts.query.arraySync()[0]![3]![0]).toEqual([6, 7]);
      expect(parts.key.arraySync()[0]![0]![0]).toEqual([8, 9]);
      expect(parts.value.arraySync()[0]![0]![0]).toEqual([10, 11]);
      tf.dispose([projection, parts.query, parts.key, parts.value]);
    });
  });

  it('reads per-head [heads, 3, headDim] features (GPT-NeoX query_key_value)', async () => {
    await expectNoLeak(() => {
      const projection = numbered(2, 2, 2 * 3 * 2); // 2 heads of 2
      const { query, key, value } = splitFusedQueryKeyValue(projection, {
        heads: 2,
        headDim: 2,
        order: 'per-head',
      });
      // head 1's features start at 1·3·2 = 6: query 6-7, key 8-9, value 10-11.
      expect(query.arraySync()[1]![1]![0]).toEqual([at(1, 0, 6), at(1, 0, 7)]);
      expect(key.arraySync()[0]![1]![1]).toEqual([at(0, 1, 8), at(0, 1, 9)]);
      expect(value.arraySync()[0]![0]![0]).toEqual([at(0, 0, 4), at(0, 0, 5)]);
      tf.dispose([projection, query, key, value]);
    });
  });

  it('refuses a projection of the wrong width, and per-head order with grouped heads', () => {
    const projection = numbered(1, 1, 10);
    expect(() => splitFusedQueryKeyValue(projection, { heads: 2, headDim: 2, order: 'blocks' })).toThrow(
      /must be \[batch, seq, 12\], got \[1,1,10\]/,
    );
    expect(() =>
      splitFusedQueryKeyValue(projection, { heads: 3, kvHeads: 1, headDim: 2, order: 'per-head' }),
    ).toThrow(AttentionInputError);
    projection.dispose();
  });

  it('splits one position (a decode step) of either order exactly as the general path lays it out', async () => {
    await expectNoLeak(() => {
      const headDim = 2;
      for (const [order, heads, kvHeads] of [
        ['blocks', 3, 3],
        ['blocks', 4, 2],
        ['per-head', 3, 3],
      ] as const) {
        const projection = numbered(2, 1, (heads + 2 * kvHeads) * headDim);
        const parts = splitFusedQueryKeyValue(projection, { heads, kvHeads, headDim, order });
        // feature of (part, head, d): blocks [q | k | v]; per-head [heads, 3, headDim]
        const feature = (part: number, head: number, d: number) =>
          order === 'blocks'
            ? (part === 0 ? 0 : heads * headDim + (part - 1) * kvHeads * headDim) + head * headDim + d
            : (head * 3 + part) * headDim + d;
        [parts.query, parts.key, parts.value].forEach((tensor, part) => {
          const partHeads = part === 0 ? heads : kvHeads;
          expect(tensor.shape).toEqual([2, partHeads, 1, headDim]);
          const expected = [0, 1].map((b) =>
            Array.from({ length: partHeads }, (_, head) => [
              [0, 1].map((d) => at(b, 0, feature(part, head, d))),
            ]),
          );
          expect(tensor.arraySync(), `${order} ${heads}/${kvHeads} part ${part}`).toEqual(expected);
        });
        tf.dispose([projection, parts.query, parts.key, parts.value]);
      }
    });
  });
});
