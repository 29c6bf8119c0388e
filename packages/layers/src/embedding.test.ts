import * as tf from '@tensorflow/tfjs-core';
import { Module, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomValues } from '../test/float64.js';
import { Embedding, embeddingParameterCount } from './embedding.js';
import { MissingMaxPositionError, PositionOutOfRangeError } from './errors.js';
import { LearnedPositionalEmbedding } from './learned-positional-embedding.js';
import { Linear } from './linear.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Row `index` of a `[rows, dim]` table. */
function row(table: number[], dim: number, index: number): number[] {
  return table.slice(index * dim, (index + 1) * dim);
}

describe('Embedding', () => {
  it('looks rows up by id, keeping the ids shape', async () => {
    await expectNoLeak(() => {
      const table = randomValues(7 * 3, 1);
      const embedding = new Embedding(7, 3);
      embedding.weight.assign(tf.tensor2d(table, [7, 3]));
      const ids = tf.tensor2d([6, 0, 2, 2], [2, 2], 'int32');
      const out = embedding.forward(ids);
      expect(out.shape).toEqual([2, 2, 3]);
      assertClose(
        out,
        [6, 0, 2, 2].flatMap((id) => row(table, 3, id)),
        0,
        'embedding',
      );
      tf.dispose([ids, out]);
      embedding.dispose();
    });
  });
});

describe('LearnedPositionalEmbedding', () => {
  it('reads row position + offset from a table of numPositions + offset rows (BART offset 2)', async () => {
    await expectNoLeak(() => {
      const table = randomValues(6 * 2, 2);
      const positions = new LearnedPositionalEmbedding(4, 2, { offset: 2 });
      expect(positions.weight.shape).toEqual([6, 2]);
      positions.weight.assign(tf.tensor2d(table, [6, 2]));
      const ids = tf.tensor2d([0, 1, 3], [1, 3], 'int32');
      const out = positions.forward(ids, 3);
      assertClose(
        out,
        [2, 3, 5].flatMap((r) => row(table, 2, r)),
        0,
        'positions',
      );
      tf.dispose([ids, out]);
      positions.dispose();
    });
  });

  it('throws a PositionOutOfRangeError for positions past the table', async () => {
    await expectNoLeak(() => {
      const positions = new LearnedPositionalEmbedding(4, 2);
      positions.weight.assign(tf.zeros([4, 2]));
      const ids = tf.tensor2d([2, 3, 4], [1, 3], 'int32');
      expect(() => positions.forward(ids, 4)).toThrow(PositionOutOfRangeError);
      expect(() => positions.forward(ids, 4)).toThrow(
        /position 4 is outside the learned position table of 4/,
      );
      expect(() => positions.forward(ids)).toThrow(MissingMaxPositionError);
      ids.dispose();
      positions.dispose();
    });
  });
});

describe('embeddingParameterCount', () => {
  it("counts every embedding table once, a table shared by two modules too, as HF's exclude_embeddings", () => {
    class TwoTowers extends Module {
      readonly shared = this.register('shared', new Embedding(10, 4));
      readonly positions = this.register('positions', new LearnedPositionalEmbedding(6, 4));
      readonly head = this.register('head', new Linear(4, 10, { sharedWeight: this.shared.weight }));
      readonly encoder = this.register('encoder', new Tower(this.shared));
    }
    class Tower extends Module {
      constructor(tokens: Embedding) {
        super();
        this.register('embed_tokens', tokens);
        this.register('proj', new Linear(4, 4));
      }
    }
    const model = new TwoTowers();
    expect(embeddingParameterCount(model)).toBe(10 * 4 + 6 * 4);
    expect(model.numParameters() - embeddingParameterCount(model)).toBe(10 + 4 * 4 + 4); // head bias, proj
  });
});
