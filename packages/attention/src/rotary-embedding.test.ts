import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyRotaryEmbedding, rotateHalf } from './apply-rotary-embedding.js';
import { AttentionInputError } from './errors.js';
import { ropeInverseFrequencies } from './rope-frequencies.js';
import { type RawRopeConfig, resolveRopeParameters } from './rope-parameters.js';
import { RotaryEmbedding } from './rotary-embedding.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** PyTorch's own float32 cos/sin (first half of each row; scripts/torch-rope-reference.py). */
interface TorchCase {
  name: string;
  config: RawRopeConfig;
  sequence_length: number | null;
  positions: number[];
  cos: number[][];
  sin: number[][];
}
const torchCases: TorchCase[] = JSON.parse(
  readFileSync(new URL('../test-data/torch-rope-reference.json', import.meta.url), 'utf8'),
).cases;

/** HF's forward for given float32 inverse frequencies: cos/sin of fround(inv · position), rows [freqs, freqs]. */
function expectedRows(inverse: Float32Array, positions: number[], scaling: number) {
  const cos: number[] = [];
  const sin: number[] = [];
  for (const position of positions) {
    const angles = Array.from(inverse, (frequency) => Math.fround(frequency * position));
    const rowCos = angles.map((angle) => Math.fround(Math.fround(Math.cos(angle)) * Math.fround(scaling)));
    const rowSin = angles.map((angle) => Math.fround(Math.fround(Math.sin(angle)) * Math.fround(scaling)));
    cos.push(...rowCos, ...rowCos);
    sin.push(...rowSin, ...rowSin);
  }
  return { cos, sin };
}

function ids(positions: number[][]): tf.Tensor2D {
  return tf.tensor2d(positions, undefined, 'int32');
}

describe('RotaryEmbedding', () => {
  it('gives PyTorch float32 cos and sin up to position 4000 for every rope type', async () => {
    await expectNoLeak(() => {
      const embeddings = new Map<string, RotaryEmbedding>();
      for (const torchCase of torchCases) {
        // dynamic and longrope cases run in order on one embedding, as a growing sequence would
        let rope = embeddings.get(torchCase.name);
        if (!rope) {
          rope = new RotaryEmbedding(resolveRopeParameters(torchCase.config));
          embeddings.set(torchCase.name, rope);
        }
        const length = torchCase.sequence_length ?? Math.max(...torchCase.positions) + 1;
        const rows = torchCase.positions
          .map((position, row) => ({ position, row }))
          .filter((r) => r.position < length);
        const positionIds = ids([rows.map((r) => r.position)]);
        const { cos, sin } = rope.forward(positionIds, length - 1);
        const half = torchCase.cos[0]!.length;
        expect(cos.shape).toEqual([1, rows.length, 2 * half]);
        // Where torch's vectorised float32 pow was one ulp off (see rope-frequencies.test.ts), the angle moves
        // by position · Δinv; everywhere else cos and sin must agree to float32 rounding.
        const ours = ropeInverseFrequencies(rope.parameters, length).inverseFrequencies;
        const frequencyGap = torchCase.inverse_frequencies.map((value, i) =>
          Math.abs(Math.fround(value) - ours[i]!),
        );
        const [cosValues, sinValues] = [cos.dataSync(), sin.dataSync()];
        rows.forEach(({ position, row }, r) => {
          for (let c = 0; c < 2 * half; c++) {
            const tolerance = 2.5e-7 + 1.5 * position * frequencyGap[c % half]!;
            const at = r * 2 * half + c;
            const label = `${torchCase.name} ${torchCase.sequence_length ?? ''} position ${position} channel ${c}`;
            expect(
              Math.abs(cosValues[at]! - Math.fround(torchCase.cos[row]![c % half]!)),
              `${label} cos`,
            ).toBeLessThanOrEqual(tolerance);
            expect(
              Math.abs(sinValues[at]! - Math.fround(torchCase.sin[row]![c % half]!)),
              `${label} sin`,
            ).toBeLessThanOrEqual(tolerance);
          }
        });
        tf.dispose([positionIds, cos, sin]);
      }
      for (const rope of embeddings.values()) rope.dispose();
    });
  });

  it('grows its table past the initial length and gathers any positions, batch by batch', async () => {
    await expectNoLeak(() => {
      const parameters = resolveRopeParameters({ head_dim: 16, rope_theta: 10000 });
      const rope = new RotaryEmbedding(parameters, { initialLength: 4 });
      const { inverseFrequencies } = ropeInverseFrequencies(parameters);
      const batches = [
        [
          [0, 1, 2],
          [3, 2, 1],
        ],
        [
          [9, 4, 0],
          [7, 7, 8],
        ],
        [
          [2500, 30, 1],
          [0, 0, 0],
        ],
      ];
      for (const batch of batches) {
        const positionIds = ids(batch);
        const { cos, sin } = rope.forward(positionIds, Math.max(...batch.flat()));
        expect(cos.shape).toEqual([2, 3, 16]);
        const expected = expectedRows(inverseFrequencies, batch.flat(), 1);
        assertClose(cos, expected.cos, 0, 'cos');
        assertClose(sin, expected.sin, 0, 'sin');
        tf.dispose([positionIds, cos, sin]);
      }
      // once grown, a decode step adds no kept tensor
      const before = tf.memory().numTensors;
      const step = ids([[2400]]);
      const { cos, sin } = rope.forward(step, 2400);
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([step, cos, sin]);
      rope.dispose();
    });
  });

  it('keeps dynamic NTK frequencies grown until a sequence shorter than max_position_embeddings, as HF', async () => {
    await expectNoLeak(() => {
      const parameters = resolveRopeParameters({
        head_dim: 16,
        max_position_embeddings: 64,
        rope_scaling: { type: 'dynamic', factor: 2 },
      });
      const rope = new RotaryEmbedding(parameters);
      const rowAt = (maxPosition: number) => {
        const positionIds = ids([[5]]);
        const { cos, sin } = rope.forward(positionIds, maxPosition);
        const values = Array.from(cos.dataSync());
        tf.dispose([positionIds, cos, sin]);
        return values;
      };
      const expectedAt = (length?: number) =>
        expectedRows(ropeInverseFrequencies(parameters, length).inverseFrequencies, [5], 1).cos;
      expect(rowAt(10)).toEqual(expectedAt());
      expect(rowAt(99)).toEqual(expectedAt(100)); // grown beyond 64
      expect(rowAt(99)).not.toEqual(expectedAt());
      expect(rowAt(79)).toEqual(expectedAt(100)); // shorter but still beyond 64: HF keeps the grown frequencies
      expect(rowAt(119)).toEqual(expectedAt(120)); // grows again
      expect(rowAt(40)).toEqual(expectedAt()); // below 64: reset
      rope.dispose();
    });
  });

  it('switches LongRoPE between short and long factors by sequence length', async () => {
    await expectNoLeak(() => {
      const parameters = resolveRopeParameters({
        head_dim: 8,
        max_position_embeddings: 256,
        rope_parameters: {
          rope_type: 'longrope',
          short_factor: [1, 1.5, 2, 3],
          long_factor: [4, 5, 6, 7],
          original_max_position_embeddings: 32,
        },
      });
      const rope = new RotaryEmbedding(parameters);
      const scaling = Math.sqrt(1 + Math.log(8) / Math.log(32));
      expect(rope.attentionScaling).toBeCloseTo(scaling, 14);
      for (const [maxPosition, length] of [
        [31, undefined],
        [32, 33],
        [3, undefined],
      ] as const) {
        const positionIds = ids([[0, 3]]);
        const { cos, sin } = rope.forward(positionIds, maxPosition);
        const { inverseFrequencies } = ropeInverseFrequencies(parameters, length);
        assertClose(
          cos,
          expectedRows(inverseFrequencies, [0, 3], scaling).cos,
          0,
          `longrope up to ${maxPosition}`,
        );
        tf.dispose([positionIds, cos, sin]);
      }
      rope.dispose();
    });
  });

  it('rejects bad position ids', () => {
    const rope = new RotaryEmbedding(resolveRopeParameters({ head_dim: 8 }));
    const floats = tf.tensor2d([[0, 1]]);
    const negative = ids([[-1, 2]]);
    expect(() => rope.forward(floats, 1)).toThrow(
      /positionIds must be a \[batch, seq\] int32 tensor, got float32/,
    );
    expect(() => rope.forward(negative, -3)).toThrow(AttentionInputError);
    expect(() => new RotaryEmbedding(resolveRopeParameters({ head_dim: 8 }), { initialLength: 0 })).toThrow(
      /initialLength/,
    );
    tf.dispose([floats, negative]);
    rope.dispose();
  });
});

describe('applyRotaryEmbedding', () => {
  /** x·cos + rotate_half(x)·sin on the first `width` channels, element by element. */
  function reference(x: tf.Tensor4D, cos: number[], sin: number[], width: number): number[] {
    const [batch, heads, seq, headDim] = x.shape;
    const values = x.dataSync();
    const out: number[] = [];
    const half = width / 2;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let s = 0; s < seq; s++) {
          const at = (c: number) => values[((b * heads + h) * seq + s) * headDim + c]!;
          const trig = (b * seq + s) * width;
          for (let c = 0; c < headDim; c++) {
            if (c >= width) out.push(at(c));
            else
              out.push(at(c) * cos[trig + c]! + (c < half ? -at(c + half) : at(c - half)) * sin[trig + c]!);
          }
        }
      }
    }
    return out;
  }

  it('rotates the first rotary channels of queries and keys and passes the rest through', async () => {
    await expectNoLeak(() => {
      // head_dim 10 with partial_rotary_factor 0.4: 4 rotary channels; 4 query heads, 2 key heads
      const parameters = resolveRopeParameters({ head_dim: 10, partial_rotary_factor: 0.4 });
      const rope = new RotaryEmbedding(parameters);
      const random = new SeededRandom(3);
      const query = tf.tensor4d(random.normalArray(2 * 4 * 3 * 10), [2, 4, 3, 10]);
      const key = tf.tensor4d(random.normalArray(2 * 2 * 3 * 10), [2, 2, 3, 10]);
      const positionIds = ids([
        [0, 1, 2],
        [5, 6, 700],
      ]);
      const { cos, sin } = rope.forward(positionIds, 700);
      expect(rope.width).toBe(4);
      const [rotatedQuery, rotatedKey] = applyRotaryEmbedding(query, key, cos, sin);
      const cosValues = Array.from(cos.dataSync());
      const sinValues = Array.from(sin.dataSync());
      assertClose(rotatedQuery, reference(query, cosValues, sinValues, 4), 1e-6, 'query');
      assertClose(rotatedKey, reference(key, cosValues, sinValues, 4), 1e-6, 'key');
      tf.dispose([query, key, positionIds, cos, sin, rotatedQuery, rotatedKey]);
      rope.dispose();
    });
  });

  it('rotate_half maps [x1, x2] to [-x2, x1]', async () => {
    await expectNoLeak(() => {
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 1, 6]);
      const rotated = rotateHalf(x);
      expect(Array.from(rotated.dataSync())).toEqual([-4, -5, -6, 1, 2, 3]);
      tf.dispose([x, rotated]);
    });
  });

  it('rejects shapes that do not fit', () => {
    const query = tf.zeros([1, 2, 3, 8]) as tf.Tensor4D;
    const cos = tf.zeros([1, 3, 8]) as tf.Tensor3D;
    const shortCos = tf.zeros([1, 2, 8]) as tf.Tensor3D;
    const wide = tf.zeros([1, 3, 10]) as tf.Tensor3D;
    expect(() => applyRotaryEmbedding(query, query, shortCos, shortCos)).toThrow(/query is \[1,2,3,8\]/);
    expect(() => applyRotaryEmbedding(query, query, cos, shortCos)).toThrow(/cos and sin must both be/);
    expect(() => applyRotaryEmbedding(query, query, wide, wide)).toThrow(/must be \[1, heads, 3, >= 10\]/);
    tf.dispose([query, cos, shortCos, wide]);
  });
});
