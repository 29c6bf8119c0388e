import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueBlocks } from '@tsformer/cache';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAttentionMask } from './attention-mask.js';
import {
  getAttentionImplementation,
  listAttentionImplementations,
  registerAttentionImplementation,
} from './attention-registry.js';
import type { AttentionImplementation } from './attention-types.js';
import { decodeAttention } from './decode-attention.js';
import { eagerAttention } from './eager-attention.js';
import { AttentionInputError, UnknownAttentionImplementationError } from './errors.js';
import { keyValueBlock } from './key-value-block.js';

beforeAll(async () => {
  await useBackend('wasm');
});

interface Case {
  batch: number;
  heads: number;
  kvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
}

function randomTensor(shape: number[], seed: number): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new SeededRandom(seed).normalArray(size), shape, 'float32') as tf.Tensor4D;
}

/** Gemma 2's soft cap and T5's additive per-head bias (`[batch or 1, heads, Q, K]`), when given. */
interface ReferenceExtras {
  softcap?: number;
  bias?: Float32Array;
  biasBatched?: boolean;
}

/**
 * Attention in plain float64 loops, the way HF's eager path reads: every query head `h` uses kv head
 * `floor(h / (heads / kvHeads))` (repeat_kv), scores · scale, soft cap, + bias + mask, softmax, head
 * mask, · value.
 */
function referenceAttention(
  c: Case,
  query: Float32Array,
  key: Float32Array,
  value: Float32Array,
  mask: Float32Array | null,
  scale: number,
  headMask: number[] | null = null,
  extras: ReferenceExtras = {},
): { output: Float64Array; probabilities: Float64Array } {
  const { batch, heads, kvHeads, queryLength: Q, keyLength: K, headDim: D } = c;
  const output = new Float64Array(batch * heads * Q * D);
  const probabilities = new Float64Array(batch * heads * Q * K);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvHead = Math.floor(h / (heads / kvHeads));
      for (let i = 0; i < Q; i++) {
        const scores: number[] = [];
        for (let j = 0; j < K; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) {
            dot += query[((b * heads + h) * Q + i) * D + d]! * key[((b * kvHeads + kvHead) * K + j) * D + d]!;
          }
          let score = dot * scale;
          if (extras.softcap !== undefined) score = Math.tanh(score / extras.softcap) * extras.softcap;
          if (extras.bias)
            score += extras.bias[(((extras.biasBatched ? b : 0) * heads + h) * Q + i) * K + j]!;
          scores.push(score + (mask ? mask[(b * Q + i) * K + j]! : 0));
        }
        const largest = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - largest));
        const total = exps.reduce((a, e) => a + e, 0);
        for (let j = 0; j < K; j++) {
          const p = (exps[j]! / total) * (headMask ? headMask[h]! : 1);
          probabilities[((b * heads + h) * Q + i) * K + j] = p;
          for (let d = 0; d < D; d++) {
            output[((b * heads + h) * Q + i) * D + d]! +=
              p * value[((b * kvHeads + kvHead) * K + j) * D + d]!;
          }
        }
      }
    }
  }
  return { output, probabilities };
}

function setup(c: Case, seed: number) {
  const query = randomTensor([c.batch, c.heads, c.queryLength, c.headDim], seed);
  const key = randomTensor([c.batch, c.kvHeads, c.keyLength, c.headDim], seed + 1);
  const value = randomTensor([c.batch, c.kvHeads, c.keyLength, c.headDim], seed + 2);
  return { query, key, value };
}

describe('eagerAttention: soft-capping and an additive position bias', () => {
  const c: Case = { batch: 2, heads: 4, kvHeads: 2, queryLength: 3, keyLength: 5, headDim: 8 };

  it('caps the scaled scores with tanh(s / cap) · cap before the mask (Gemma 2)', async () => {
    await expectNoLeak(() => {
      const { query, key, value } = setup(c, 40);
      const mask = buildAttentionMask({
        batchSize: c.batch,
        queryStart: 2,
        queryLength: c.queryLength,
        keyStart: 0,
        keyLength: c.keyLength,
      });
      // A cap of 0.5 is well below the scores' spread: an uncapped result would differ by far more than 1e-5.
      const input = { query, keyValues: keyValueBlock(key, value), mask, scale: 0.9, outputAttentions: true };
      const { output, attentions } = eagerAttention({ ...input, softcap: 0.5 });
      const [q, k, v, m] = [query, key, value, mask].map((t) => t.dataSync() as Float32Array);
      const expected = referenceAttention(c, q!, k!, v!, m!, 0.9, null, { softcap: 0.5 });
      assertClose(output, expected.output, 1e-5, 'output');
      assertClose(attentions!, expected.probabilities, 1e-6, 'probabilities');
      const uncapped = referenceAttention(c, q!, k!, v!, m!, 0.9);
      expect(
        Math.max(...expected.probabilities.map((p, i) => Math.abs(p - uncapped.probabilities[i]!))),
      ).toBeGreaterThan(1e-2);
      tf.dispose([query, key, value, mask, output, attentions!]);
    });
  });

  it.each([
    ['one bias for every row', false],
    ['a bias per row', true],
  ])(
    'adds a per-head bias [batch or 1, heads, Q, K] with the mask, unscaled (T5): %s',
    async (_name, batched) => {
      await expectNoLeak(() => {
        const { query, key, value } = setup(c, 50);
        const biasShape = [batched ? c.batch : 1, c.heads, c.queryLength, c.keyLength];
        const positionBias = randomTensor(biasShape, 53);
        const mask = buildAttentionMask({
          batchSize: c.batch,
          queryStart: 2,
          queryLength: c.queryLength,
          keyStart: 0,
          keyLength: c.keyLength,
        });
        const { output, attentions } = eagerAttention({
          query,
          keyValues: keyValueBlock(key, value),
          mask,
          positionBias,
          scale: 1,
          outputAttentions: true,
        });
        const [q, k, v, m, bias] = [query, key, value, mask, positionBias].map(
          (t) => t.dataSync() as Float32Array,
        );
        const expected = referenceAttention(c, q!, k!, v!, m!, 1, null, {
          bias: bias!,
          biasBatched: batched,
        });
        assertClose(output, expected.output, 1e-5, 'output');
        assertClose(attentions!, expected.probabilities, 1e-6, 'probabilities');
        tf.dispose([query, key, value, positionBias, mask, output, attentions!]);
      });
    },
  );

  it('refuses a bias of the wrong shape and a cap that is not positive', () => {
    const { query, key, value } = setup(c, 60);
    const keyValues = keyValueBlock(key, value);
    const wrongBias = tf.zeros([1, 1, c.queryLength, c.keyLength]) as tf.Tensor4D;
    expect(() => eagerAttention({ query, keyValues, positionBias: wrongBias })).toThrow(
      /positionBias is \[1,1,3,5\], expected \[2 or 1, 4, 3, 5\]/,
    );
    expect(() => eagerAttention({ query, keyValues, softcap: 0 })).toThrow(AttentionInputError);
    tf.dispose([query, key, value, wrongBias]);
  });
});

describe('eagerAttention', () => {
  const cases: [string, Case][] = [
    ['multi-head', { batch: 2, heads: 4, kvHeads: 4, queryLength: 3, keyLength: 5, headDim: 8 }],
    ['grouped-query', { batch: 2, heads: 6, kvHeads: 2, queryLength: 3, keyLength: 5, headDim: 8 }],
    ['multi-query', { batch: 1, heads: 4, kvHeads: 1, queryLength: 4, keyLength: 4, headDim: 16 }],
  ];
  for (const [name, c] of cases) {
    it(`matches a float64 reference for ${name} attention with a causal, padded mask`, async () => {
      await expectNoLeak(() => {
        const { query, key, value } = setup(c, 10);
        const paddingMask = tf.tensor2d(
          Array.from({ length: c.batch }, (_, b) =>
            Array.from({ length: c.keyLength }, (_, k) => (b === 1 && k === 0 ? 0 : 1)),
          ),
          [c.batch, c.keyLength],
          'int32',
        );
        const mask = buildAttentionMask({
          batchSize: c.batch,
          queryStart: c.keyLength - c.queryLength,
          queryLength: c.queryLength,
          keyStart: 0,
          keyLength: c.keyLength,
          paddingMask,
        });
        const { output, attentions } = eagerAttention({
          query,
          keyValues: keyValueBlock(key, value),
          mask,
          outputAttentions: true,
        });
        const expected = referenceAttention(
          c,
          query.dataSync() as Float32Array,
          key.dataSync() as Float32Array,
          value.dataSync() as Float32Array,
          mask.dataSync() as Float32Array,
          1 / Math.sqrt(c.headDim),
        );
        expect(output.shape).toEqual([c.batch, c.heads, c.queryLength, c.headDim]);
        expect(attentions!.shape).toEqual([c.batch, c.heads, c.queryLength, c.keyLength]);
        assertClose(output, expected.output, 1e-5, 'output');
        assertClose(attentions!, expected.probabilities, 1e-6, 'probabilities');
        tf.dispose([query, key, value, paddingMask, mask, output, attentions!]);
      });
    });
  }

  it('gives the same result from several cache blocks as from one (and as the reference)', async () => {
    const c: Case = { batch: 2, heads: 4, kvHeads: 2, queryLength: 2, keyLength: 6, headDim: 8 };
    await expectNoLeak(() => {
      const { query, key, value } = setup(c, 20);
      const mask = buildAttentionMask({
        batchSize: 2,
        queryStart: 4,
        queryLength: 2,
        keyStart: 0,
        keyLength: 6,
      });
      const split = (x: tf.Tensor4D) => tf.split(x, [2, 3, 1], 2) as tf.Tensor4D[];
      const blocks: KeyValueBlocks = { keys: split(key), values: split(value), keyStart: 0, keyLength: 6 };
      const single = eagerAttention({
        query,
        keyValues: keyValueBlock(key, value),
        mask,
        scale: 0.3,
        outputAttentions: true,
      });
      const multi = eagerAttention({ query, keyValues: blocks, mask, scale: 0.3, outputAttentions: true });
      assertClose(multi.output, single.output, 1e-6, 'blocks vs one');
      assertClose(multi.attentions!, single.attentions!, 1e-7, 'probabilities');
      const expected = referenceAttention(
        c,
        query.dataSync() as Float32Array,
        key.dataSync() as Float32Array,
        value.dataSync() as Float32Array,
        mask.dataSync() as Float32Array,
        0.3,
      );
      assertClose(multi.output, expected.output, 1e-5, 'blocks vs reference');
      tf.dispose([
        query,
        key,
        value,
        mask,
        ...blocks.keys,
        ...blocks.values,
        single.output,
        single.attentions!,
      ]);
      tf.dispose([multi.output, multi.attentions!]);
    });
  });

  it('multiplies probabilities by the head mask', async () => {
    const c: Case = { batch: 1, heads: 4, kvHeads: 2, queryLength: 3, keyLength: 3, headDim: 4 };
    await expectNoLeak(() => {
      const { query, key, value } = setup(c, 30);
      const headMaskValues = [1, 0, 0.5, 1];
      const headMask = tf.tensor1d(headMaskValues);
      const { output, attentions } = eagerAttention({
        query,
        keyValues: keyValueBlock(key, value),
        headMask,
        outputAttentions: true,
      });
      const expected = referenceAttention(
        c,
        query.dataSync() as Float32Array,
        key.dataSync() as Float32Array,
        value.dataSync() as Float32Array,
        null,
        0.5,
        headMaskValues,
      );
      assertClose(output, expected.output, 1e-5, 'output');
      assertClose(attentions!, expected.probabilities, 1e-6, 'probabilities');
      const head1 = tf.slice(output, [0, 1, 0, 0], [1, 1, 3, 4]);
      expect(Array.from(head1.dataSync()).every((x) => x === 0)).toBe(true);
      tf.dispose([query, key, value, headMask, output, attentions!, head1]);
    });
  });

  it('applies dropout only when training', async () => {
    const c: Case = { batch: 1, heads: 2, kvHeads: 2, queryLength: 4, keyLength: 4, headDim: 4 };
    await expectNoLeak(() => {
      const { query, key, value } = setup(c, 40);
      const input = { query, keyValues: keyValueBlock(key, value), outputAttentions: true };
      const plain = eagerAttention(input);
      const evaluation = eagerAttention({ ...input, dropout: 0.5, training: false });
      assertClose(evaluation.output, plain.output, 0, 'eval ignores dropout');
      assertClose(evaluation.attentions!, plain.attentions!, 0, 'eval probabilities');

      const trained = eagerAttention({ ...input, dropout: 0.5, training: true, dropoutSeed: 7 });
      const again = eagerAttention({ ...input, dropout: 0.5, training: true, dropoutSeed: 7 });
      assertClose(again.attentions!, trained.attentions!, 0, 'same seed, same noise');
      const kept = trained.attentions!.dataSync();
      const original = plain.attentions!.dataSync();
      let dropped = 0;
      for (let i = 0; i < kept.length; i++) {
        if (kept[i] === 0) dropped++;
        else expect(kept[i]).toBeCloseTo(original[i]! / 0.5, 6);
      }
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThan(kept.length);
      // the output is the dropped-out probabilities times the values
      const expectedOutput = tf.matMul(trained.attentions!, value);
      assertClose(trained.output, expectedOutput, 1e-6, 'output after dropout');
      tf.dispose([
        query,
        key,
        value,
        plain.output,
        plain.attentions!,
        evaluation.output,
        evaluation.attentions!,
      ]);
      tf.dispose([trained.output, trained.attentions!, again.output, again.attentions!, expectedOutput]);
    });
  });

  it('returns no probabilities unless asked', async () => {
    await expectNoLeak(() => {
      const { query, key, value } = setup(
        { batch: 1, heads: 2, kvHeads: 1, queryLength: 2, keyLength: 2, headDim: 4 },
        50,
      );
      const result = eagerAttention({ query, keyValues: keyValueBlock(key, value) });
      expect(result.attentions).toBeUndefined();
      expect('attentions' in result).toBe(false);
      tf.dispose([query, key, value, result.output]);
    });
  });

  it('rejects inputs that do not fit, naming the tensor', () => {
    const c: Case = { batch: 1, heads: 4, kvHeads: 2, queryLength: 2, keyLength: 3, headDim: 4 };
    const { query, key, value } = setup(c, 60);
    const threeHeads = randomTensor([1, 3, 3, 4], 1);
    const wrongDim = randomTensor([1, 2, 3, 5], 1);
    const badMask = tf.zeros([1, 1, 2, 4]) as tf.Tensor4D;
    const badHeadMask = tf.ones([3]) as tf.Tensor1D;
    const run = (overrides: object) => () =>
      eagerAttention({ query, keyValues: keyValueBlock(key, value), ...overrides });
    expect(run({ keyValues: keyValueBlock(threeHeads, threeHeads) })).toThrow(/multiple of key\/value heads/);
    expect(run({ keyValues: keyValueBlock(wrongDim, value) })).toThrow(/key block 0 is \[1,2,3,5\]/);
    expect(run({ keyValues: keyValueBlock(key, threeHeads) })).toThrow(/value block 0/);
    expect(run({ mask: badMask })).toThrow(/mask is \[1,1,2,4\], expected \[1 or 1, 1, 2, 3\]/);
    expect(run({ headMask: badHeadMask })).toThrow(/headMask is \[3\], expected \[4\]/);
    expect(run({ dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(run({ keyValues: { keys: [key], values: [value], keyStart: 0, keyLength: 4 } })).toThrow(
      /keyLength is 4 but its blocks hold 3/,
    );
    expect(run({ keyValues: { keys: [], values: [], keyStart: 0, keyLength: 0 } })).toThrow(
      AttentionInputError,
    );
    tf.dispose([query, key, value, threeHeads, wrongDim, badMask, badHeadMask]);
  });
});

describe('attention registry', () => {
  it('has eager registered: the decodeAttention fused op, whose portable implementation is eagerAttention', () => {
    expect(getAttentionImplementation('eager')).toBe(decodeAttention);
    expect(decodeAttention.portable).toBe(eagerAttention);
    expect(listAttentionImplementations()).toContain('eager');
  });

  it('returns what was registered and lists it', async () => {
    const halfScale: AttentionImplementation = (input) => eagerAttention({ ...input, scale: 0.5 });
    registerAttentionImplementation('half-scale', halfScale);
    expect(getAttentionImplementation('half-scale')).toBe(halfScale);
    expect(listAttentionImplementations()).toEqual(['eager', 'half-scale']);
    await expectNoLeak(() => {
      const { query, key, value } = setup(
        { batch: 1, heads: 2, kvHeads: 2, queryLength: 2, keyLength: 2, headDim: 4 },
        70,
      );
      const viaRegistry = getAttentionImplementation('half-scale')({
        query,
        keyValues: keyValueBlock(key, value),
      });
      const direct = eagerAttention({ query, keyValues: keyValueBlock(key, value), scale: 0.5 });
      assertClose(viaRegistry.output, direct.output, 0, 'registered implementation');
      tf.dispose([query, key, value, viaRegistry.output, direct.output]);
    });
  });

  it('names the registered implementations when asked for an unknown one', () => {
    expect(() => getAttentionImplementation('flash_attention_2')).toThrow(
      UnknownAttentionImplementationError,
    );
    expect(() => getAttentionImplementation('flash_attention_2')).toThrow(
      /unknown attention implementation "flash_attention_2"; registered: eager/,
    );
  });

  it('rejects an empty name or a non-function', () => {
    expect(() => registerAttentionImplementation('', eagerAttention)).toThrow(AttentionInputError);
    expect(() => registerAttentionImplementation('x', 42 as unknown as AttentionImplementation)).toThrow(
      /must be a function/,
    );
  });
});
