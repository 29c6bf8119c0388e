import * as tf from '@tensorflow/tfjs-core';
import { CosSinTable } from './cos-sin-table.js';
import { AttentionInputError } from './errors.js';
import { ropeInverseFrequencies } from './rope-frequencies.js';
import type { RopeParameters } from './rope-parameters.js';

export interface RotaryEmbeddingOptions {
  /** Rows of the first cos/sin table (default `min(max_position_embeddings, 2048)`); it doubles as needed. */
  initialLength?: number;
}

/**
 * HF's `LlamaRotaryEmbedding` (with `dynamic_rope_update`): cos and sin for position ids. The cos/sin rows
 * are computed once per position and kept on the device, so a decode step uploads nothing; a step
 * gathers its rows by position. Holds tensors across steps: call `dispose()` with the model.
 *
 * Dynamic NTK and LongRoPE pick their frequencies from the sequence length `max position + 1`, as HF:
 * dynamic rescales once it exceeds `max_position_embeddings` and, like HF, keeps the grown frequencies
 * until a sequence shorter than `max_position_embeddings` resets them; LongRoPE uses `long_factor` beyond
 * the pretraining length and `short_factor` otherwise.
 */
export class RotaryEmbedding {
  /** Channels of cos and sin: `rotaryDim` rounded up to even (HF `cos.shape[-1]`). */
  readonly width: number;
  /** The factor cos and sin are multiplied by (HF `attention_scaling`; 1 except for yarn and longrope). */
  readonly attentionScaling: number;
  private readonly initialLength: number;
  private readonly table: CosSinTable;
  /** LongRoPE's `long_factor` table, or dynamic NTK's table for `grownLength`; null until needed. */
  private alternateTable: CosSinTable | null = null;
  /** Dynamic NTK: HF's `max_seq_len_cached`. */
  private grownLength: number;

  constructor(
    readonly parameters: RopeParameters,
    options: RotaryEmbeddingOptions = {},
  ) {
    this.initialLength = options.initialLength ?? Math.min(parameters.maxPositionEmbeddings ?? 2048, 2048);
    if (!(Number.isInteger(this.initialLength) && this.initialLength > 0)) {
      throw new AttentionInputError(`initialLength must be a positive integer, got ${options.initialLength}`);
    }
    const { inverseFrequencies, attentionScaling } = ropeInverseFrequencies(parameters);
    this.table = new CosSinTable(inverseFrequencies, attentionScaling, this.initialLength);
    this.width = this.table.width;
    this.attentionScaling = attentionScaling;
    this.grownLength = parameters.maxPositionEmbeddings ?? 0;
  }

  /**
   * `positionIds` `[batch, seq]` int32 → `cos`, `sin` `[batch, seq, width]`. `maxPosition` is the largest
   * id: it sizes the table (an upper bound is enough there), and dynamic NTK and LongRoPE read it as HF
   * reads `max(position_ids)`. The caller knows it (the cache length plus the new tokens, or the positions
   * it built); the ids are never read back from the device, which WebGPU cannot do synchronously. Call
   * inside the forward's `tf.tidy`.
   */
  forward(positionIds: tf.Tensor2D, maxPosition: number): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
    if (positionIds.rank !== 2 || positionIds.dtype !== 'int32') {
      throw new AttentionInputError(
        `positionIds must be a [batch, seq] int32 tensor, got ${positionIds.dtype} [${positionIds.shape}]`,
      );
    }
    if (!(Number.isInteger(maxPosition) && maxPosition >= 0)) {
      throw new AttentionInputError(`maxPosition must be an integer >= 0, got ${maxPosition}`);
    }
    const table = this.tableFor(maxPosition + 1);
    table.ensure(maxPosition + 1);
    const [batchSize, sequenceLength] = positionIds.shape;
    return tf.tidy(() => {
      const rows = table.gather(tf.reshape(positionIds, [-1]));
      return {
        cos: tf.reshape(rows.cos, [batchSize, sequenceLength, this.width]) as tf.Tensor3D,
        sin: tf.reshape(rows.sin, [batchSize, sequenceLength, this.width]) as tf.Tensor3D,
      };
    });
  }

  /** Frees the kept cos/sin tables (they are rebuilt if `forward` is called again). */
  dispose(): void {
    this.table.dispose();
    this.alternateTable?.dispose();
    this.alternateTable = null;
    this.grownLength = this.parameters.maxPositionEmbeddings ?? 0;
  }

  private newTable(sequenceLength: number): CosSinTable {
    const { inverseFrequencies, attentionScaling } = ropeInverseFrequencies(this.parameters, sequenceLength);
    return new CosSinTable(inverseFrequencies, attentionScaling, this.initialLength);
  }

  /** The table for a sequence of `sequenceLength` tokens (HF `dynamic_rope_update`). */
  private tableFor(sequenceLength: number): CosSinTable {
    const parameters = this.parameters;
    if (parameters.ropeType === 'longrope') {
      if (sequenceLength <= parameters.originalMaxPositionEmbeddings) return this.table;
      this.alternateTable ??= this.newTable(parameters.originalMaxPositionEmbeddings + 1);
      return this.alternateTable;
    }
    if (parameters.ropeType === 'dynamic') {
      const original = parameters.maxPositionEmbeddings;
      if (sequenceLength > this.grownLength) {
        this.alternateTable?.dispose();
        this.alternateTable = this.newTable(sequenceLength);
        this.grownLength = sequenceLength;
      } else if (sequenceLength < original && this.grownLength > original) {
        this.alternateTable?.dispose();
        this.alternateTable = null;
        this.grownLength = original;
      }
      return this.alternateTable ?? this.table;
    }
    return this.table;
  }
}
