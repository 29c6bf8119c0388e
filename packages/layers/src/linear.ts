import type * as tf from '@tensorflow/tfjs-core';
import { Module, type Parameter, sameShape, TsformerError } from '@tsformer/core-tensor';
import { linear, linearResidual, type Projection } from '@tsformer/kernels';

export interface LinearOptions {
  /** Whether the layer has a bias (PyTorch default: true). */
  bias?: boolean;
  /**
   * Share another layer's `[outFeatures, inFeatures]` weight (a tied `lm_head` reads the token
   * embedding table) instead of owning one.
   */
  sharedWeight?: Parameter;
}

/**
 * PyTorch's `nn.Linear`: `y = x Wᵀ + b` with `weight` named and shape-checked `[outFeatures, inFeatures]`,
 * as Hugging Face checkpoints hold it. An owned weight is kept transposed in memory (`[in, out]`,
 * a plain matMul is faster than a transposed one on wasm); a shared one is used as it is stored.
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const shared = options.sharedWeight;
    if (shared && !sameShape(shared.shape, [outFeatures, inFeatures])) {
      throw new TsformerError(
        `a Linear(${inFeatures} -> ${outFeatures}) cannot share a [${shared.shape}] weight; it needs [${outFeatures},${inFeatures}]`,
      );
    }
    this.weight = this.parameter('weight', shared ?? [outFeatures, inFeatures], {
      transposed: true,
    });
    this.bias = (options.bias ?? true) ? this.parameter('bias', [outFeatures]) : undefined;
  }

  /**
   * `[..., inFeatures]` -> `[..., outFeatures]`, through the `linear` op (a backend's fast kernel when it
   * has one); with `residual` `[..., outFeatures]`, returns `residual + y` (one dispatch on webgpu).
   */
  forward(input: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    if (residual) return linearResidual(input, this.projection, residual);
    return linear(input, this.weight, this.bias);
  }

  /** The weight and bias as the projection ops take them. */
  get projection(): Projection {
    return { weight: this.weight, bias: this.bias };
  }
}
