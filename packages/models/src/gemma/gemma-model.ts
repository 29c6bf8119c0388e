import * as tf from '@tensorflow/tfjs-core';
import type { AttentionImplementation } from '@tsformer/attention';
import { RMSNorm } from '@tsformer/layers';
import type { StackLayer } from '../layer-stack.js';
import type { LlamaConfig } from '../llama/llama-config.js';
import { LlamaDecoderLayer, LlamaForCausalLM, LlamaModel } from '../llama/llama-model.js';
import type { RotaryAngles } from '../rotary-layer-stack.js';

/** Gemma's RMSNorm: `x / sqrt(mean(x²) + eps) · (1 + weight)` in float32 (HF's `GemmaRMSNorm`). */
export function createGemmaNorm(config: LlamaConfig): RMSNorm {
  return new RMSNorm(config.hiddenSize, { eps: config.rmsNormEps, weightOffset: 1 });
}

/**
 * A Gemma layer: Llama's pre-norm layer (`x + attn(norm(x))`, then `x + mlp(norm(x))`) with `1 + weight`
 * norms; its gated MLP runs the config's GELU (GeGLU).
 */
export class GemmaDecoderLayer extends LlamaDecoderLayer {
  protected override createNorm(config: LlamaConfig): RMSNorm {
    return createGemmaNorm(config);
  }
}

/** The Gemma trunk: Llama's, with token embeddings scaled by √hidden and `1 + weight` norms. */
export class GemmaModel extends LlamaModel {
  protected override createLayer(
    config: LlamaConfig,
    layerIndex: number,
    attention: AttentionImplementation,
  ): StackLayer<RotaryAngles> {
    return new GemmaDecoderLayer(config, layerIndex, attention);
  }

  protected override createNorm(config: LlamaConfig): RMSNorm {
    return createGemmaNorm(config);
  }

  /** `[batch, seq]` → `[batch, seq, hidden]` token embeddings times √hidden, rounded to float32 as HF's normalizer is. */
  protected override embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    const normalizer = Math.fround(Math.sqrt(this.config.hiddenSize));
    return tf.mul(super.embed(inputIds), normalizer) as tf.Tensor3D;
  }
}

/**
 * Gemma with its language-model head (HF `GemmaForCausalLM`; `lm_head` tied to `embed_tokens` unless
 * `tie_word_embeddings` is false): Llama's classes with Gemma's hooks.
 */
export class GemmaForCausalLM extends LlamaForCausalLM {
  protected override createModel(config: LlamaConfig, attention: AttentionImplementation): LlamaModel {
    return new GemmaModel(config, attention);
  }
}
