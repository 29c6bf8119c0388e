import * as tf from '@tensorflow/tfjs-core';
import type { LogitsProcessor, TokenRows } from '@tsformer/decoding';

/** One generated token and what the model thought of it. */
export interface TokenChoice {
  id: number;
  /** Its probability in the processed distribution the token was chosen from. */
  probability: number;
  /** The most likely tokens, most likely first. */
  candidates: { id: number; probability: number }[];
}

/**
 * A logits processor, run after all others, that records the first row's next-token distribution
 * (softmax of the processed scores, as Hugging Face's `output_scores` gives them) without changing
 * the scores. Its tensors outlive the step's tidy until `read` takes them; `dispose` frees the rest.
 */
export class ProbabilityRecorder implements LogitsProcessor {
  private readonly recorded: tf.Tensor[] = [];

  constructor(private readonly candidates = 10) {}

  process(_inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    // [1, vocab]: the first row only (greedy search and sampling of one prompt).
    this.recorded.push(tf.keep(tf.softmax(tf.slice(scores, [0, 0], [1, -1]))));
    return scores;
  }

  /** The distribution of the step that chose `id`: read back, then freed. */
  async read(id: number): Promise<TokenChoice | undefined> {
    const probabilities = this.recorded.shift();
    if (probabilities === undefined) return undefined;
    try {
      const values = (await probabilities.data()) as Float32Array;
      return { id, probability: values[id] ?? 0, candidates: topCandidates(values, this.candidates) };
    } finally {
      probabilities.dispose();
    }
  }

  dispose(): void {
    for (const tensor of this.recorded.splice(0)) tensor.dispose();
  }
}

/** The `count` largest entries, largest first (ties: the lower id first). */
function topCandidates(values: Float32Array, count: number): { id: number; probability: number }[] {
  const top: { id: number; probability: number }[] = [];
  values.forEach((probability, id) => {
    if (top.length === count && probability <= top[count - 1]!.probability) return;
    const at = top.findIndex((entry) => probability > entry.probability);
    top.splice(at === -1 ? top.length : at, 0, { id, probability });
    if (top.length > count) top.pop();
  });
  return top;
}
