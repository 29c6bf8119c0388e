import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AttentionMaskOptions,
  buildAttentionMask,
  buildPaddingMask,
  MASKED_SCORE,
} from './attention-mask.js';
import { eagerAttention } from './eager-attention.js';
import { AttentionInputError } from './errors.js';
import { keyValueBlock } from './key-value-block.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The visibility rule written out element by element, independently of the tensor code. */
function expectedMask(options: AttentionMaskOptions, padding?: number[][]): number[] {
  const { batchSize, queryStart, queryLength, keyStart, keyLength, causal = true, slidingWindow } = options;
  const values: number[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let q = 0; q < queryLength; q++) {
      for (let k = 0; k < keyLength; k++) {
        const queryPosition = queryStart + q;
        const keyPosition = keyStart + k;
        let visible = !causal || keyPosition <= queryPosition;
        if (slidingWindow !== undefined && !(keyPosition > queryPosition - slidingWindow)) visible = false;
        if (padding && (padding[b]![keyPosition] ?? 0) === 0) visible = false;
        values.push(visible ? 0 : MASKED_SCORE);
      }
    }
  }
  return values;
}

function check(options: AttentionMaskOptions, padding?: number[][]): void {
  const mask = buildAttentionMask(options);
  expect(mask.shape).toEqual([options.batchSize, 1, options.queryLength, options.keyLength]);
  expect(mask.dtype).toBe('float32');
  expect(Array.from(mask.dataSync())).toEqual(expectedMask(options, padding));
  mask.dispose();
}

describe('buildAttentionMask', () => {
  it('is lower-triangular for a prefill and offset by the cache length for later steps', async () => {
    await expectNoLeak(() => {
      check({ batchSize: 1, queryStart: 0, queryLength: 5, keyStart: 0, keyLength: 5 });
      // two new tokens after 3 cached ones: keys 0..4, queries at positions 3 and 4
      check({ batchSize: 2, queryStart: 3, queryLength: 2, keyStart: 0, keyLength: 5 });
      // a decode step sees every key
      check({ batchSize: 1, queryStart: 6, queryLength: 1, keyStart: 0, keyLength: 7 });
    });
  });

  it('is all zeros when neither causal nor padded', async () => {
    await expectNoLeak(() =>
      check({ batchSize: 2, queryStart: 0, queryLength: 3, keyStart: 0, keyLength: 4, causal: false }),
    );
  });

  it('hides left padding by absolute key position', async () => {
    const padding = [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    await expectNoLeak(() => {
      const paddingMask = tf.tensor2d(padding, [2, 6], 'int32');
      check({ batchSize: 2, queryStart: 0, queryLength: 5, keyStart: 0, keyLength: 5, paddingMask }, padding);
      check({ batchSize: 2, queryStart: 5, queryLength: 1, keyStart: 0, keyLength: 6, paddingMask }, padding);
      paddingMask.dispose();
    });
  });

  it('masks static-cache slots past the end of the padding mask', async () => {
    const padding = [[1, 1, 1, 1]];
    await expectNoLeak(() => {
      const paddingMask = tf.tensor2d(padding, [1, 4], 'float32');
      // a static cache of 8 slots: slots 4..7 are unwritten
      check({ batchSize: 1, queryStart: 2, queryLength: 2, keyStart: 0, keyLength: 8, paddingMask }, padding);
      check(
        {
          batchSize: 1,
          queryStart: 0,
          queryLength: 3,
          keyStart: 0,
          keyLength: 8,
          causal: false,
          paddingMask,
        },
        padding,
      );
      paddingMask.dispose();
    });
  });

  it('applies a sliding window as HF does (kv > q - window), also for a prefill longer than the window', async () => {
    await expectNoLeak(() => {
      const mask = buildAttentionMask({
        batchSize: 1,
        queryStart: 0,
        queryLength: 5,
        keyStart: 0,
        keyLength: 5,
        slidingWindow: 3,
      });
      const visible = Array.from(mask.dataSync()).map((value) => (value === 0 ? 1 : 0));
      // HF masking_utils' own picture for sliding_window=3
      expect(visible).toEqual([1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
      mask.dispose();
      check({ batchSize: 1, queryStart: 0, queryLength: 9, keyStart: 0, keyLength: 9, slidingWindow: 4 });
    });
  });

  it('combines a sliding window, a cache offset, keyStart > 0 and left padding', async () => {
    const padding = [
      [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ];
    await expectNoLeak(() => {
      const paddingMask = tf.tensor2d(padding, [2, 12], 'int32');
      // a sliding cache that dropped keys 0..3: keys 4..10, two queries at 9 and 10
      check(
        {
          batchSize: 2,
          queryStart: 9,
          queryLength: 2,
          keyStart: 4,
          keyLength: 7,
          slidingWindow: 4,
          paddingMask,
        },
        padding,
      );
      // keyStart beyond the padding mask: every key is masked
      check(
        { batchSize: 2, queryStart: 14, queryLength: 1, keyStart: 13, keyLength: 2, paddingMask },
        padding,
      );
      paddingMask.dispose();
    });
  });

  it('gives a fully masked row that softmaxes to finite probabilities', async () => {
    await expectNoLeak(() => {
      const paddingMask = tf.tensor2d([[0, 0, 1]], [1, 3], 'int32');
      const mask = buildAttentionMask({
        batchSize: 1,
        queryStart: 0,
        queryLength: 3,
        keyStart: 0,
        keyLength: 3,
        paddingMask,
      });
      const query = tf.randomNormal([1, 2, 3, 4], 0, 3, 'float32', 1) as tf.Tensor4D;
      const key = tf.randomNormal([1, 2, 3, 4], 0, 3, 'float32', 2) as tf.Tensor4D;
      const { output, attentions } = eagerAttention({
        query,
        keyValues: keyValueBlock(key, key),
        mask,
        outputAttentions: true,
      });
      const probabilities = attentions!.dataSync();
      expect(Array.from(probabilities).every(Number.isFinite)).toBe(true);
      expect(Array.from(output.dataSync()).every(Number.isFinite)).toBe(true);
      // the first two queries see only padding: HF's eager attention averages uniformly over the keys
      expect(Array.from(probabilities.slice(0, 3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
      tf.dispose([paddingMask, mask, query, key, output, attentions!]);
    });
  });

  it('rejects bad arguments, naming them', () => {
    const base = { batchSize: 1, queryStart: 0, queryLength: 2, keyStart: 0, keyLength: 2 };
    expect(() => buildAttentionMask({ ...base, queryLength: 0 })).toThrow(
      /queryLength must be an integer >= 1/,
    );
    expect(() => buildAttentionMask({ ...base, keyStart: -1 })).toThrow(AttentionInputError);
    expect(() => buildAttentionMask({ ...base, slidingWindow: 0 })).toThrow(/slidingWindow/);
    expect(() => buildAttentionMask({ ...base, queryStart: 1.5 })).toThrow(/queryStart/);
    const paddingMask = tf.ones([2, 2]) as tf.Tensor2D;
    expect(() => buildAttentionMask({ ...base, paddingMask })).toThrow(/paddingMask must be \[batch=1/);
    paddingMask.dispose();
  });
});

describe('buildPaddingMask', () => {
  it('lets every query see every real key', async () => {
    const padding = [
      [1, 1, 1, 0],
      [0, 1, 1, 1],
    ];
    await expectNoLeak(() => {
      const paddingMask = tf.tensor2d(padding, [2, 4], 'int32');
      const mask = buildPaddingMask(paddingMask, 3);
      expect(mask.shape).toEqual([2, 1, 3, 4]);
      const options = {
        batchSize: 2,
        queryStart: 0,
        queryLength: 3,
        keyStart: 0,
        keyLength: 4,
        causal: false,
      };
      expect(Array.from(mask.dataSync())).toEqual(expectedMask(options, padding));
      tf.dispose([paddingMask, mask]);
    });
  });

  it('rejects a mask that is not 2-D', () => {
    const paddingMask = tf.ones([4]) as unknown as tf.Tensor2D;
    expect(() => buildPaddingMask(paddingMask, 2)).toThrow(AttentionInputError);
    paddingMask.dispose();
  });
});
