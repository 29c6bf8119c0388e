import * as tf from '@tensorflow/tfjs-core';
import { type FieldName, sequenceBias } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import { GenerationConfigError } from '../errors.js';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * Adds a bias to the last token of each listed sequence when the row ends with the rest of it (a
 * one-token sequence is biased at every step). Several matching sequences add up.
 */
export class SequenceBiasLogitsProcessor implements LogitsProcessor {
  /** One entry per distinct sequence (a repeated sequence keeps its last bias, as in a Python dict). */
  private readonly biases: readonly (readonly [readonly number[], number])[];

  constructor(
    bias: readonly (readonly [readonly number[], number])[],
    private readonly field: FieldName = { option: 'sequenceBias', hf: 'sequence_bias' },
  ) {
    const pairs = bias.length === 0 ? [] : sequenceBias(bias, field);
    const bySequence = new Map(pairs.map(([ids, value]) => [ids.join(','), [ids, value] as const]));
    this.biases = [...bySequence.values()];
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const [rows, vocabSize] = scores.shape;
    const outOfVocabulary = this.biases.flatMap(([ids]) => ids.filter((id) => id >= vocabSize));
    if (outOfVocabulary.length > 0) {
      throw new GenerationConfigError(
        this.field.option,
        `the vocabulary has ${vocabSize} tokens, but these biased token ids are outside it: ${outOfVocabulary.join(', ')}`,
      );
    }
    const coordinates: number[] = [];
    const values: number[] = [];
    inputIds.forEach((row, r) => {
      for (const [ids, value] of this.biases) {
        if (ids.length > 1 && (ids.length > row.length || !endsWith(row, ids.slice(0, -1)))) continue;
        coordinates.push(r, ids[ids.length - 1]!);
        values.push(value);
      }
    });
    if (values.length === 0) return scores;
    const bias = tf.scatterND(
      tf.tensor2d(coordinates, [values.length, 2], 'int32'),
      tf.tensor1d(values, 'float32'),
      [rows, vocabSize],
    );
    return tf.add(scores, bias);
  }
}

function endsWith(row: readonly number[], suffix: readonly number[]): boolean {
  const offset = row.length - suffix.length;
  return suffix.every((id, i) => row[offset + i] === id);
}
