import * as tf from '@tensorflow/tfjs-core';
import { TsformerError } from './errors.js';

/**
 * A named weight slot of a module: its shape is known when the module is built, its value arrives
 * later (loaded from a checkpoint or initialised). A model can therefore be built, named and
 * counted without a single byte of weights (`tsformer inspect --config`).
 */
export class Parameter {
  private value: tf.Tensor | undefined;

  constructor(readonly shape: readonly number[]) {
    for (const dim of shape) {
      if (!Number.isInteger(dim) || dim < 0) throw new TsformerError(`invalid parameter shape [${shape}]`);
    }
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isSet(): boolean {
    return this.value !== undefined;
  }

  /** The weight tensor; throws when nothing was loaded into this parameter. */
  get tensor(): tf.Tensor {
    if (!this.value) throw new TsformerError(`parameter of shape [${this.shape}] was never loaded`);
    return this.value;
  }

  /** Takes ownership of `tensor` (kept across tidy scopes) and frees the previous value. */
  assign(tensor: tf.Tensor): void {
    if (!sameShape(tensor.shape, this.shape)) {
      throw new TsformerError(`cannot assign a [${tensor.shape}] tensor to a [${this.shape}] parameter`);
    }
    if (tensor === this.value) return;
    this.value?.dispose();
    this.value = tf.keep(tensor);
  }

  dispose(): void {
    this.value?.dispose();
    this.value = undefined;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
