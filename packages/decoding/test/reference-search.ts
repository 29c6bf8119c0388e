import { SeededRandom } from '@tsformer/core-tensor';
import { logSoftmax } from './toy-models.js';

/** Next-token logits for a row of tokens (a model written in plain JavaScript). */
export type ReferenceModel = (tokens: readonly number[]) => number[];

function argMax(values: readonly number[]): number {
  return values.reduce((best, value, i) => (value > values[best]! ? i : best), 0);
}

/** Greedy decoding by hand: the generated tokens (EOS included when reached). */
export function greedyReference(
  model: ReferenceModel,
  prompt: readonly number[],
  maxNewTokens: number,
  eos: readonly number[] = [],
): number[] {
  const tokens = [...prompt];
  for (let step = 0; step < maxNewTokens; step++) {
    const next = argMax(model(tokens));
    tokens.push(next);
    if (eos.includes(next)) break;
  }
  return tokens.slice(prompt.length);
}

/**
 * Multinomial sampling by hand for one row: softmax in float64, then the first token whose running
 * probability sum exceeds `uniform × total`, one uniform per step from SeededRandom(seed).
 */
export function samplingReference(
  model: ReferenceModel,
  prompt: readonly number[],
  maxNewTokens: number,
  seed: number,
  eos: readonly number[] = [],
): number[] {
  const random = new SeededRandom(seed);
  const tokens = [...prompt];
  for (let step = 0; step < maxNewTokens; step++) {
    const probabilities = logSoftmax(model(tokens)).map(Math.exp);
    const total = probabilities.reduce((sum, p) => sum + p, 0);
    const threshold = random.uniform() * total;
    let next = 0;
    for (let cumulative = probabilities[0]!; cumulative <= threshold && next < probabilities.length - 1; ) {
      next += 1;
      cumulative += probabilities[next]!;
    }
    tokens.push(next);
    if (eos.includes(next)) break;
  }
  return tokens.slice(prompt.length);
}

export interface ScoredHypothesis {
  readonly tokens: number[];
  readonly score: number;
}

/**
 * Every possible continuation (ending at EOS or after `maxNewTokens`), scored as beam search scores
 * finished hypotheses: summed log-probability / (generated length ^ lengthPenalty); best first.
 */
export function exhaustiveHypotheses(
  model: ReferenceModel,
  prompt: readonly number[],
  maxNewTokens: number,
  eos: readonly number[],
  lengthPenalty: number,
): ScoredHypothesis[] {
  const found: ScoredHypothesis[] = [];
  const extend = (tokens: number[], logProb: number) => {
    const logProbs = logSoftmax(model(tokens));
    logProbs.forEach((tokenLogProb, token) => {
      const next = [...tokens, token];
      const generated = next.length - prompt.length;
      if (eos.includes(token) || generated === maxNewTokens) {
        found.push({ tokens: next, score: (logProb + tokenLogProb) / generated ** lengthPenalty });
      } else {
        extend(next, logProb + tokenLogProb);
      }
    });
  };
  extend([...prompt], 0);
  return found.sort((a, b) => b.score - a.score);
}
