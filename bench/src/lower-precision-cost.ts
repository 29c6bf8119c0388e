import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fromPretrained, type LowerPrecisionDtype, type PretrainedCausalLM } from '@tsformer/models';
import { round } from './measure.js';

/** A held text (written for this suite, in no training set): API-reference English with code words. */
const HELD_TEXT = [
  'Split the array into chunks of equal size along the first axis.',
  'When the length is not a multiple of the chunk size, the last chunk is shorter.',
  'Returns a list of views; no data is copied, so writing to a chunk writes to the array.',
  'Raises ValueError when the chunk size is zero or negative.',
  'See also: stack, concatenate, and the reshape method for a copy-free change of shape.',
].join('\n');

interface Run {
  /** Positions of the held text measured. */
  tokens: number;
  /** Logits of every position of the held text, [tokens × vocab]. */
  logits: Float32Array;
  perplexity: number;
  /** Greedy continuations of each prompt. */
  greedy: number[][];
}

/**
 * What the opt-in lower-precision weights (`fromPretrained`'s `dtype`) cost against the checkpoint's
 * own weights, on the CPU kernels: max |Δ logit| over the held text's positions (at most `positions`),
 * the perplexity of the held text, and greedy agreement (token by token) over `newTokens`-token
 * continuations of `prompts` (the fixtures' greedy prompts). Deterministic: no timing.
 */
export async function lowerPrecisionCost(
  name: string,
  folder: string,
  prompts: number[][],
  positions: number,
  newTokens: number,
) {
  const base = await measure(folder, prompts, positions, newTokens);
  const rows = [];
  for (const dtype of ['bf16', 'int8'] as const) {
    const low = await measure(folder, prompts, positions, newTokens, dtype);
    let maxAbsLogit = 0;
    for (let k = 0; k < low.logits.length; k++) {
      maxAbsLogit = Math.max(maxAbsLogit, Math.abs(low.logits[k]! - base.logits[k]!));
    }
    let same = 0;
    let total = 0;
    for (const [row, tokens] of base.greedy.entries()) {
      for (const [k, token] of tokens.entries()) same += low.greedy[row]![k] === token ? 1 : 0;
      total += tokens.length;
    }
    rows.push({
      model: name,
      dtype,
      positions: base.tokens,
      maxAbsLogit: round(maxAbsLogit, 4),
      // The scale Δ is measured against: a random-weight model's logits are small.
      maxAbsLogitOfBase: round(
        base.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
        4,
      ),
      perplexity: [round(base.perplexity, 3), round(low.perplexity, 3)],
      greedyAgreement: `${same}/${total}`,
    });
  }
  return rows;
}

async function measure(
  folder: string,
  prompts: number[][],
  positions: number,
  newTokens: number,
  dtype?: LowerPrecisionDtype,
): Promise<Run> {
  const { model, tokenizer } = await fromPretrained(folder, dtype ? { dtype } : {});
  const causal = model as PretrainedCausalLM;
  const ids = tokenizer!.encode(HELD_TEXT).slice(0, positions);
  const [logits, nll] = tf.tidy(() => {
    const all = causal.forward(tf.tensor2d([ids], undefined, 'int32')).logits; // [1, tokens, vocab]
    const logProbs = tf.logSoftmax(tf.slice(tf.squeeze(all, [0]), 0, ids.length - 1)); // [tokens-1, vocab]
    const next = tf.oneHot(tf.tensor1d(ids.slice(1), 'int32'), all.shape[2]); // [tokens-1, vocab]
    return [all, tf.neg(tf.mean(tf.sum(tf.mul(logProbs, next), -1)))];
  });
  const run = {
    logits: (await logits.data()) as Float32Array,
    perplexity: Math.exp((await nll.data())[0]!),
    greedy: [] as number[][],
    tokens: ids.length,
  };
  tf.dispose([logits, nll]);
  for (const prompt of prompts) {
    const { sequences } = await causal.generateAll(
      { inputIds: [prompt] },
      { maxNewTokens: newTokens, minNewTokens: newTokens, doSample: false, numBeams: 1 },
    );
    run.greedy.push(sequences[0]!.slice(prompt.length));
  }
  model.dispose();
  return run;
}

/** The greedy prompts of a fixture folder's reference.json (`generate` cases named greedy*). */
export function fixtureGreedyPrompts(folder: string): number[][] {
  const reference = JSON.parse(readFileSync(join(folder, 'reference.json'), 'utf8')) as {
    generate: { name: string; input_ids: number[][] }[];
  };
  return reference.generate
    .filter((c) => c.name.startsWith('greedy') && c.input_ids.length === 1)
    .map((c) => c.input_ids[0]!);
}
