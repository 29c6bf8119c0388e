// The opt-in lower-precision weights (fromPretrained's `dtype`: bf16, int8) cost accuracy; these
// tests measure the cost against the checkpoint's own weights and hold it to bounds, and the figures
// are recorded in packages/kernels/README.md: max |Δ logit| over a held text, the perplexity change
// on it, and greedy agreement on the fixtures' prompts.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PretrainedCausalLM } from '../src/causal-lm.js';
import { LoadOptionError } from '../src/errors.js';
import { fromPretrained, type LowerPrecisionDtype } from '../src/from-pretrained.js';
import { DECODER_FIXTURES, readDecoderReference } from './decoder-fixtures.js';

/** Docstring-like English written for these tests (not in any training set). */
const HELD_TEXT = [
  'Compute the weighted mean of the values along the given axis.',
  '',
  'Parameters',
  '----------',
  'values : array_like',
  '    Input data. Missing entries are skipped.',
  'axis : int, optional',
  '    Axis along which the mean is computed.',
  '',
  'Returns',
  '-------',
  'mean : ndarray',
  '    The weighted mean, with the reduced axis removed.',
].join('\n');

interface Measured {
  /** Logits of every position of the held text, [tokens × vocab]. */
  logits: Float32Array;
  perplexity: number;
  /** Greedy continuations of the fixture's greedy prompts. */
  greedy: number[][];
}

/** `positions`: how much of the held text the model can take (the gpt2 fixture has 64 positions). */
async function measure(folder: string, positions: number, dtype?: LowerPrecisionDtype): Promise<Measured> {
  const { model, tokenizer } = await fromPretrained(folder, { dtype });
  const causal = model as PretrainedCausalLM;
  const ids = tokenizer!.encode(HELD_TEXT).slice(0, positions);
  const [logits, nll] = tf.tidy(() => {
    const all = causal.forward(tf.tensor2d([ids], undefined, 'int32')).logits; // [1, tokens, vocab]
    const logProbs = tf.logSoftmax(tf.slice(tf.squeeze(all, [0]), 0, ids.length - 1)); // [tokens-1, vocab]
    const next = tf.oneHot(tf.tensor1d(ids.slice(1), 'int32'), all.shape[2]); // [tokens-1, vocab]
    return [all, tf.neg(tf.mean(tf.sum(tf.mul(logProbs, next), -1)))];
  });
  const measured = {
    logits: (await logits.data()) as Float32Array,
    perplexity: Math.exp((await nll.data())[0]!),
    greedy: [] as number[][],
  };
  tf.dispose([logits, nll]);
  const reference = readDecoderReference(folder.endsWith('tiny-llama-docs') ? 'tiny-llama-docs' : 'gpt2');
  for (const greedyCase of reference.generate!.filter((c) => c.name.startsWith('greedy_'))) {
    const { sequences } = await causal.generateAll(
      { inputIds: greedyCase.input_ids },
      { maxNewTokens: 40, doSample: false, numBeams: 1 },
    );
    measured.greedy.push(sequences[0]!.slice(greedyCase.input_ids[0]!.length));
  }
  model.dispose();
  return measured;
}

/** Fraction of generated positions equal to the reference's, over all prompts. */
function agreement(got: number[][], want: number[][]): number {
  let same = 0;
  let total = 0;
  for (const [row, tokens] of want.entries()) {
    for (const [k, token] of tokens.entries()) same += got[row]?.[k] === token ? 1 : 0;
    total += tokens.length;
  }
  return same / total;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('lower-precision weights (opt-in dtype)', () => {
  it('tiny-llama-docs: bf16 is its own dtype (identical), int8 stays within its measured cost', async () => {
    await expectNoLeak(async () => {
      const folder = DECODER_FIXTURES['tiny-llama-docs'];
      const POSITIONS = 512;
      const base = await measure(folder, POSITIONS);
      const bf16 = await measure(folder, POSITIONS, 'bf16');
      expect(bf16.logits).toEqual(base.logits);
      const int8 = await measure(folder, POSITIONS, 'int8');
      const cost = {
        maxAbsLogit: maxAbsDifference(int8.logits, base.logits),
        perplexity: [base.perplexity, int8.perplexity],
        greedyAgreement: agreement(int8.greedy, base.greedy),
      };
      console.log(`tiny-llama-docs int8 cost: ${JSON.stringify(cost)}`);
      expect(cost.maxAbsLogit).toBeLessThan(BOUNDS.tiny.maxAbsLogit);
      expect(int8.perplexity / base.perplexity).toBeLessThan(BOUNDS.tiny.perplexityRatio);
      expect(cost.greedyAgreement).toBeGreaterThan(BOUNDS.tiny.greedyAgreement);
    });
  });

  it('gpt2 fixture (fp32): bf16 and int8 stay within their measured cost', async () => {
    await expectNoLeak(async () => {
      const folder = DECODER_FIXTURES.gpt2;
      const POSITIONS = 64;
      const base = await measure(folder, POSITIONS);
      for (const dtype of ['bf16', 'int8'] as const) {
        const low = await measure(folder, POSITIONS, dtype);
        const cost = {
          maxAbsLogit: maxAbsDifference(low.logits, base.logits),
          perplexity: [base.perplexity, low.perplexity],
          greedyAgreement: agreement(low.greedy, base.greedy),
        };
        console.log(`gpt2 fixture ${dtype} cost: ${JSON.stringify(cost)}`);
        expect(cost.maxAbsLogit).toBeLessThan(BOUNDS.gpt2[dtype].maxAbsLogit);
        expect(low.perplexity / base.perplexity).toBeLessThan(BOUNDS.gpt2[dtype].perplexityRatio);
        expect(cost.greedyAgreement).toBeGreaterThan(BOUNDS.gpt2[dtype].greedyAgreement);
      }
    });
  });

  it('refuses a dtype it does not offer, and a dtype off the CPU kernels', async () => {
    await expect(
      fromPretrained(DECODER_FIXTURES.gpt2, { dtype: 'int4' as LowerPrecisionDtype }),
    ).rejects.toThrow(LoadOptionError);
    await expect(fromPretrained(DECODER_FIXTURES.gpt2, { dtype: 'int8', cpuKernels: false })).rejects.toThrow(
      /dtype "int8" needs the CPU kernels: the wasm or cpu backend \(active: wasm\) with cpuKernels on/,
    );
  });
});

/**
 * The measured cost (the console lines above; packages/kernels/README.md) with room: deterministic
 * computations, so a change in the kernels' or the quantizer's arithmetic shows here. Greedy agreement is
 * position by position, so one early flip costs every later token (the gpt2 fixture is a tiny random
 * model whose top-2 margins are small).
 */
const BOUNDS = {
  // measured: max |Δ logit| 0.797, perplexity 16.48 → 16.70, agreement 0.37
  tiny: { maxAbsLogit: 1.2, perplexityRatio: 1.05, greedyAgreement: 0.3 },
  gpt2: {
    // measured: 0.120, ratio 0.998, agreement 1
    bf16: { maxAbsLogit: 0.2, perplexityRatio: 1.01, greedyAgreement: 0.99 },
    // measured: 0.386, ratio 0.999, agreement 0.125
    int8: { maxAbsLogit: 0.6, perplexityRatio: 1.01, greedyAgreement: 0.1 },
  },
};
