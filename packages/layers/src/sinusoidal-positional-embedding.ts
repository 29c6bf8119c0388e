import * as tf from '@tensorflow/tfjs-core';
import { LearnedPositionalEmbedding } from './learned-positional-embedding.js';

/**
 * How sines and cosines share the feature axis:
 * - `halves` (Hugging Face Marian, XLM without interleaving): the first `ceil(dim / 2)` features are
 *   `sin(pos · ω_j)`, the remaining `floor(dim / 2)` are `cos(pos · ω_j)`;
 * - `interleaved` ("Attention is all you need", §3.5): feature `2j` is `sin(pos · ω_j)` and feature
 *   `2j + 1` is `cos(pos · ω_j)`.
 *
 * In both, `ω_j = 10000^(-2j / dim)`.
 */
export type SinusoidLayout = 'halves' | 'interleaved';

export interface SinusoidalPositionalEmbeddingOptions {
  /** Default `halves` (Marian's layout). */
  layout?: SinusoidLayout;
}

/**
 * The `[numPositions, dim]` sinusoid table in float64 (row-major), computed as Hugging Face's
 * `MarianSinusoidalPositionalEmbedding._init_weight` does before its cast to float32.
 */
export function sinusoidTable(
  numPositions: number,
  dim: number,
  layout: SinusoidLayout = 'halves',
): Float64Array {
  const table = new Float64Array(numPositions * dim);
  const sineCount = Math.ceil(dim / 2);
  for (let position = 0; position < numPositions; position++) {
    const row = table.subarray(position * dim, (position + 1) * dim);
    for (let feature = 0; feature < dim; feature++) {
      const isSine = layout === 'halves' ? feature < sineCount : feature % 2 === 0;
      const frequencyIndex = layout === 'halves' ? (isSine ? feature : feature - sineCount) : feature >> 1;
      const angle = position / 10000 ** ((2 * frequencyIndex) / dim);
      row[feature] = isSine ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return table;
}

/**
 * Fixed sinusoidal positions (Marian's `embed_positions`, the classic Transformer's positional
 * encoding). The table is not learned, but as in PyTorch it is held in a `weight` parameter, filled
 * when the layer is built: it counts in `numParameters()` like Hugging Face's frozen parameter, and
 * a checkpoint that stores it (older Marian conversions) loads into it. Like Hugging Face's, it gets no
 * gradient (`requiresGrad` is false: training leaves it as it is). Lookup and range checks are
 * those of a learned table: positions past `numPositions` raise a `PositionOutOfRangeError`.
 */
export class SinusoidalPositionalEmbedding extends LearnedPositionalEmbedding {
  readonly layout: SinusoidLayout;

  constructor(
    numPositions: number,
    embeddingDim: number,
    options: SinusoidalPositionalEmbeddingOptions = {},
  ) {
    super(numPositions, embeddingDim);
    this.layout = options.layout ?? 'halves';
    this.weight.requiresGrad = false;
    this.resetTable();
  }

  /** (Re)fills `weight` with the sinusoid table (after random initialisation, for example). */
  resetTable(): void {
    const table = sinusoidTable(this.numPositions, this.embeddingDim, this.layout);
    this.weight.assign(tf.tensor2d(Float32Array.from(table), [this.numPositions, this.embeddingDim]));
  }
}
