import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { PositionOutOfRangeError } from './errors.js';
import { SinusoidalPositionalEmbedding, sinusoidTable } from './sinusoidal-positional-embedding.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** HF Marian's recipe: angles `pos / 10000^(2·⌊j/2⌋/dim)`, sines of even columns then cosines of odd ones. */
function marianReference(numPositions: number, dim: number): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < numPositions; pos++) {
    const angles = Array.from({ length: dim }, (_, j) => pos / 10000 ** ((2 * Math.floor(j / 2)) / dim));
    const sines = angles.filter((_, j) => j % 2 === 0).map(Math.sin);
    const cosines = angles.filter((_, j) => j % 2 === 1).map(Math.cos);
    out.push(...sines, ...cosines);
  }
  return out;
}

/** The paper's PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). */
function paperReference(numPositions: number, dim: number): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < numPositions; pos++) {
    for (let i = 0; 2 * i < dim; i++) {
      const angle = pos / 10000 ** ((2 * i) / dim);
      out.push(Math.sin(angle));
      if (2 * i + 1 < dim) out.push(Math.cos(angle));
    }
  }
  return out;
}

describe('sinusoidTable', () => {
  it('matches Marian’s halves layout for even and odd widths', () => {
    assertClose(sinusoidTable(9, 8), marianReference(9, 8), 1e-12, 'dim 8');
    assertClose(sinusoidTable(5, 7), marianReference(5, 7), 1e-12, 'dim 7');
  });

  it('matches the paper’s interleaved layout', () => {
    assertClose(sinusoidTable(9, 8, 'interleaved'), paperReference(9, 8), 1e-12, 'dim 8');
    assertClose(sinusoidTable(5, 7, 'interleaved'), paperReference(5, 7), 1e-12, 'dim 7');
  });

  it('starts every row with sin(pos) and has sin 0 / cos 1 at position 0', () => {
    const table = sinusoidTable(3, 4);
    expect(Array.from(table.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    expect(table[4]).toBeCloseTo(Math.sin(1), 15);
    expect(table[6]).toBeCloseTo(Math.cos(1), 15);
  });
});

describe('SinusoidalPositionalEmbedding', () => {
  it('is built with its table filled and looks positions up', async () => {
    await expectNoLeak(() => {
      const positions = new SinusoidalPositionalEmbedding(6, 4, { layout: 'interleaved' });
      expect(positions.numParameters()).toBe(24);
      const ids = tf.tensor2d([5, 0, 2], [1, 3], 'int32');
      const out = positions.forward(ids, 5);
      const table = paperReference(6, 4);
      assertClose(
        out,
        [5, 0, 2].flatMap((r) => table.slice(r * 4, r * 4 + 4)),
        1e-7,
        'lookup',
      );
      tf.dispose([ids, out]);
      positions.dispose();
    });
  });

  it('refills the table after the weight was overwritten', async () => {
    await expectNoLeak(() => {
      const positions = new SinusoidalPositionalEmbedding(4, 6);
      positions.weight.assign(tf.zeros([4, 6]));
      positions.resetTable();
      assertClose(positions.weight.tensor, marianReference(4, 6), 1e-7, 'table');
      positions.dispose();
    });
  });

  it('throws a PositionOutOfRangeError past the table', async () => {
    await expectNoLeak(() => {
      const positions = new SinusoidalPositionalEmbedding(4, 2);
      const ids = tf.tensor2d([4], [1, 1], 'int32');
      expect(() => positions.forward(ids, 4)).toThrow(PositionOutOfRangeError);
      ids.dispose();
      positions.dispose();
    });
  });
});
