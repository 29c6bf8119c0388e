import * as tf from '@tensorflow/tfjs-core';
import type { Cache } from '@tsformer/cache';
import type { TokenRows } from '../config/generation-options.js';
import type { CacheImplementation, Seq2SeqLM } from '../language-model.js';
import { lastPositionLogits, type ModelSession, repeatRows } from './model-session.js';

/**
 * An encoder-decoder model: the source is encoded once, its hidden states and mask repeated for each
 * beam or returned sequence, and the decoder fed the tokens its cache has not seen.
 */
export class Seq2SeqSession implements ModelSession {
  readonly vocabSize: number;
  private readonly cache: Cache | undefined;
  private readonly encoderHiddenStates: tf.Tensor3D;
  private readonly encoderAttentionMask: tf.Tensor2D;
  private cachedLength = 0;

  constructor(
    private readonly model: Seq2SeqLM,
    sourceIds: TokenRows,
    sourceMask: TokenRows,
    rowsPerSource: number,
    /** How the cache stores keys; undefined: no cache (every step re-reads the whole sequence). */
    cacheImplementation: CacheImplementation | undefined,
    maxLength: number,
  ) {
    this.vocabSize = model.vocabSize;
    const [sources, sourceLength] = [sourceIds.length, sourceIds[0]!.length];
    this.encoderHiddenStates = tf.tidy(() => {
      const encoded = model.encode(
        tf.tensor2d(sourceIds as number[][], [sources, sourceLength], 'int32'),
        tf.tensor2d(sourceMask as number[][], [sources, sourceLength], 'int32'),
      ).lastHiddenState; // [sources, sourceLength, hidden]
      if (rowsPerSource === 1) return encoded;
      const rowSource = repeatRows([...Array(sources).keys()], rowsPerSource);
      return tf.gather(encoded, tf.tensor1d(rowSource, 'int32'));
    });
    const rows = sources * rowsPerSource;
    this.encoderAttentionMask = tf.tensor2d(
      repeatRows(sourceMask, rowsPerSource) as number[][],
      [rows, sourceLength],
      'int32',
    );
    try {
      this.cache =
        cacheImplementation === undefined
          ? undefined
          : model.createCache(rows, maxLength, cacheImplementation);
    } catch (error) {
      this.encoderHiddenStates.dispose();
      this.encoderAttentionMask.dispose();
      throw error;
    }
  }

  nextLogits(sequences: TokenRows): tf.Tensor2D {
    const length = sequences[0]!.length;
    const start = this.cache === undefined ? 0 : this.cachedLength;
    const logits = this.model.decodeLogits({
      decoderInputIds: tf.tensor2d(
        sequences.map((row) => row.slice(start)),
        [sequences.length, length - start],
        'int32',
      ),
      encoderHiddenStates: this.encoderHiddenStates,
      encoderAttentionMask: this.encoderAttentionMask,
      logitsToKeep: 1,
      ...(this.cache === undefined ? {} : { cache: this.cache }),
    });
    this.cachedLength = length;
    return lastPositionLogits(logits);
  }

  reorder(rowIndices: readonly number[]): void {
    this.cache?.reorder(rowIndices);
  }

  dispose(): void {
    this.cache?.dispose();
    this.encoderHiddenStates.dispose();
    this.encoderAttentionMask.dispose();
  }
}
