import * as tf from '@tensorflow/tfjs-core';

const f = Math.fround;

/**
 * `cos` and `sin` of `position · inverseFrequency` (times the attention scaling) for positions
 * `0 … length - 1`, each row laid out as HF's `cat((freqs, freqs), -1)`: `[length, 2 · frequencies]`.
 * Computed once in JavaScript with HF's float32 rounding, kept on the device, grown on demand.
 */
export class CosSinTable {
  readonly width: number;
  private cos: tf.Tensor2D | null = null;
  private sin: tf.Tensor2D | null = null;
  private length = 0;

  constructor(
    private readonly inverseFrequencies: Float32Array,
    private readonly attentionScaling: number,
    private readonly initialLength: number,
  ) {
    this.width = 2 * inverseFrequencies.length;
  }

  /** Makes rows `0 … length - 1` available, computing and uploading only the missing rows. */
  ensure(length: number): void {
    if (length <= this.length) return;
    const target = Math.max(length, this.length === 0 ? this.initialLength : 2 * this.length);
    const rows = this.rows(this.length, target);
    const newCos = tf.tensor2d(rows.cos, [target - this.length, this.width]);
    const newSin = tf.tensor2d(rows.sin, [target - this.length, this.width]);
    const grow = (old: tf.Tensor2D | null, added: tf.Tensor2D): tf.Tensor2D => {
      if (old === null) return tf.keep(added);
      const grown = tf.keep(tf.concat([old, added], 0));
      old.dispose();
      added.dispose();
      return grown;
    };
    this.cos = grow(this.cos, newCos);
    this.sin = grow(this.sin, newSin);
    this.length = target;
  }

  /** Rows at `positions` (`[n]` int32, each below the ensured length): `[n, width]` each. */
  gather(positions: tf.Tensor1D): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    if (this.cos === null || this.sin === null) throw new Error('CosSinTable.gather before ensure');
    return { cos: tf.gather(this.cos, positions), sin: tf.gather(this.sin, positions) };
  }

  dispose(): void {
    this.cos?.dispose();
    this.sin?.dispose();
    this.cos = null;
    this.sin = null;
    this.length = 0;
  }

  /**
   * HF's rotary forward in float32: `freqs = inv_freq ⊗ position` (one rounded product),
   * `cos = freqs.cos() * attention_scaling`, likewise `sin`.
   */
  private rows(start: number, end: number): { cos: Float32Array; sin: Float32Array } {
    const frequencies = this.inverseFrequencies.length;
    const scaling = f(this.attentionScaling);
    const cos = new Float32Array((end - start) * this.width);
    const sin = new Float32Array((end - start) * this.width);
    for (let position = start; position < end; position++) {
      const row = (position - start) * this.width;
      for (let i = 0; i < frequencies; i++) {
        const angle = f(this.inverseFrequencies[i]! * position);
        const cosine = f(f(Math.cos(angle)) * scaling);
        const sine = f(f(Math.sin(angle)) * scaling);
        cos[row + i] = cosine;
        cos[row + frequencies + i] = cosine;
        sin[row + i] = sine;
        sin[row + frequencies + i] = sine;
      }
    }
    return { cos, sin };
  }
}
