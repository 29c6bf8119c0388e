import * as tf from '@tensorflow/tfjs-core';
import { TsformerError } from './errors.js';

export interface ParameterOptions {
  /**
   * Keep a 2-D weight transposed in memory (`[in, out]` for HF's `[out, in]` Linear layout). On the wasm
   * backend `matMul(x, w)` is several times faster than `matMul(x, w, false, true)`, so linear layers
   * transpose once at load instead of every step. `shape` stays the checkpoint's shape.
   */
  transposed?: boolean;
}

/**
 * A named weight slot of a module: its shape is known when the module is built, its value arrives
 * later (loaded from a checkpoint or initialised). A model can therefore be built, named and
 * counted without a single byte of weights (`tsformer inspect --config`).
 */
export class Parameter {
  private value: tf.Tensor | undefined;
  readonly transposed: boolean;

  /** `shape` is the checkpoint's (Hugging Face) shape. */
  constructor(
    readonly shape: readonly number[],
    options: ParameterOptions = {},
  ) {
    for (const dim of shape) {
      if (!Number.isInteger(dim) || dim < 0) throw new TsformerError(`invalid parameter shape [${shape}]`);
    }
    this.transposed = options.transposed ?? false;
    if (this.transposed && shape.length !== 2) {
      throw new TsformerError(`only a 2-D parameter can be stored transposed, not [${shape}]`);
    }
  }

  /** The shape of `tensor`: `shape`, reversed when stored transposed. */
  get storedShape(): readonly number[] {
    return this.transposed ? [...this.shape].reverse() : this.shape;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isSet(): boolean {
    return this.value !== undefined;
  }

  /** The weight tensor, in `storedShape`; throws when nothing was loaded into this parameter. */
  get tensor(): tf.Tensor {
    if (!this.value) throw new TsformerError(`parameter of shape [${this.shape}] was never loaded`);
    return this.value;
  }

  /**
   * Takes ownership of `tensor`, given in the checkpoint's `shape` (kept across tidy scopes; a
   * transposed parameter keeps its transpose and frees the input), and frees the previous value.
   */
  assign(tensor: tf.Tensor): void {
    if (!sameShape(tensor.shape, this.shape)) {
      throw new TsformerError(`cannot assign a [${tensor.shape}] tensor to a [${this.shape}] parameter`);
    }
    if (tensor === this.value) return;
    const stored = this.transposed ? tf.transpose(tensor) : tensor;
    if (stored !== tensor) tensor.dispose();
    this.value?.dispose();
    this.value = tf.keep(stored);
  }

  dispose(): void {
    this.value?.dispose();
    this.value = undefined;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
