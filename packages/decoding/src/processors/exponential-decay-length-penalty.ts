import * as tf from '@tensorflow/tfjs-core';
import { exponentialDecay, integerAtLeast, tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { LogitsProcessor } from './logits-processor.js';
import { vocabularyMask } from './score-ops.js';

/**
 * Raises the EOS scores exponentially once `startIndex` tokens follow the prompt: after `k` more
 * tokens, `|score| * (decayFactor^k - 1)` is added to each EOS score.
 */
export class ExponentialDecayLengthPenalty implements LogitsProcessor {
  readonly eosTokenIds: readonly number[];
  private readonly regulationStart: number;
  private readonly decayFactor: number;

  constructor(
    penalty: readonly [startIndex: number, decayFactor: number],
    eosTokenId: number | readonly number[],
    inputIdsSequenceLength: number,
  ) {
    const [startIndex, decayFactor] = exponentialDecay(penalty, {
      option: 'exponentialDecayLengthPenalty',
      hf: 'exponential_decay_length_penalty',
    });
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'eosTokenId', hf: 'eos_token_id' });
    integerAtLeast(0)(inputIdsSequenceLength, {
      option: 'inputIdsSequenceLength',
      hf: 'input_ids_seq_length',
    });
    this.regulationStart = startIndex + inputIdsSequenceLength;
    this.decayFactor = decayFactor;
  }

  process(inputIds: TokenRows, scores: tf.Tensor2D): tf.Tensor2D {
    const currentLength = inputIds[0]?.length ?? 0;
    if (currentLength <= this.regulationStart) return scores;
    const growth = this.decayFactor ** (currentLength - this.regulationStart) - 1;
    const eos = vocabularyMask(this.eosTokenIds, scores.shape[1]);
    return tf.add(scores, tf.where(eos, tf.mul(tf.abs(scores), growth), tf.zerosLike(scores)));
  }
}
