import type * as tf from '@tensorflow/tfjs-core';
import { Module, type ModuleList } from '@tsformer/core-tensor';
import type { ForwardStep } from './forward-step.js';
import type { SelfAttention } from './self-attention.js';

/** What one layer returns. */
export interface LayerOutput {
  /** `[batch, seq, hidden]`. */
  hidden: tf.Tensor3D;
  /** Self-attention maps `[batch, heads, seq, keys]` when the step asks for them, else null. */
  attentions: tf.Tensor4D | null;
  /** Cross-attention maps `[batch, heads, seq, source]` (encoder-decoder decoders), else null/absent. */
  crossAttentions?: tf.Tensor4D | null;
}

/**
 * One layer of a stack (a decoder layer, an encoder layer): `forward` owns the residual structure
 * (pre-norm, post-norm, Gemma 2's four norms, GPT-NeoX's parallel residual), so the skeleton never
 * constrains it. `selfAttention` tells the stack the layer's heads and sliding window.
 */
export abstract class StackLayer<Context = undefined, Step extends ForwardStep = ForwardStep> extends Module {
  abstract readonly selfAttention: SelfAttention<Context>;

  /** `hidden` `[batch, seq, hidden]` → the layer's output; `context` is the stack's per-forward value. */
  abstract forward(hidden: tf.Tensor3D, step: Step, context: Context): LayerOutput;
}

/** What a stack's forward returns. */
export interface StackOutput {
  /** `[batch, seq, hidden]` after the final norm. */
  lastHiddenState: tf.Tensor3D;
  /** With `outputHiddenStates`: the embeddings, each layer's output but the last, the final state (layers + 1). */
  hiddenStates: tf.Tensor3D[];
  /** One per layer when the step asks for attention maps. */
  attentions: tf.Tensor4D[];
  /** One per layer for an encoder-decoder's decoder when the step asks for attention maps. */
  crossAttentions: tf.Tensor4D[];
}

/**
 * A stack of layers (HF's `LlamaModel`, `GPT2Model`, `BartEncoder`, `BartDecoder`, `T5Stack`): embed,
 * compute the per-forward context once, run every layer collecting hidden states and attention maps,
 * final norm. A family supplies `layers` (registered under its HF name), `embed` (token and absolute
 * position embeddings, the embedding scale), `layerContext` and `finalNorm`.
 */
export abstract class LayerStack<Context = undefined, Step extends ForwardStep = ForwardStep> extends Module {
  /** The layers, registered by the family under their HF name (`layers`, `h`, `block`). */
  abstract readonly layers: ModuleList<StackLayer<Context, Step>>;

  /** Heads of each layer's self-attention (head masks are shaped by them). */
  get layerHeads(): number[] {
    return this.layers.items.map((layer) => layer.selfAttention.numHeads);
  }

  /** Each layer's sliding window, null for full attention: what its cache and mask follow. */
  get slidingWindows(): (number | null)[] {
    return this.layers.items.map((layer) => layer.selfAttention.slidingWindow);
  }

  /** `[batch, seq]` ids → hidden states `[batch, seq, hidden]` and, on request, every layer's maps. */
  forward(inputIds: tf.Tensor2D, step: Step, outputHiddenStates: boolean): StackOutput {
    let hidden = this.embed(inputIds, step); // [batch, seq, hidden]
    const context = this.layerContext(step);
    const output: StackOutput = {
      lastHiddenState: hidden,
      hiddenStates: [],
      attentions: [],
      crossAttentions: [],
    };
    for (const layer of this.layers.items) {
      if (outputHiddenStates) output.hiddenStates.push(hidden);
      const out = layer.forward(hidden, step, context);
      hidden = out.hidden;
      if (out.attentions) output.attentions.push(out.attentions);
      if (out.crossAttentions) output.crossAttentions.push(out.crossAttentions);
    }
    output.lastHiddenState = this.finalNorm(hidden);
    if (outputHiddenStates) output.hiddenStates.push(output.lastHiddenState);
    return output;
  }

  /**
   * Hook: builds what the stack keeps on the device (rotary cos/sin tables) so that, once weights are
   * loaded, a forward leaves nothing new behind. Default: nothing.
   */
  prepareKeptTensors(): void {}

  /** Hook (required): this step's input embeddings `[batch, seq, hidden]` (tokens, absolute positions, scale, dropout). */
  protected abstract embed(inputIds: tf.Tensor2D, step: Step): tf.Tensor3D;

  /** Hook (required): what every layer of this forward shares (rotary cos/sin; `undefined` for none). */
  protected abstract layerContext(step: Step): Context;

  /** Hook (required): the final norm (and dropout) of the stack, or `hidden` itself when it has none. */
  protected abstract finalNorm(hidden: tf.Tensor3D): tf.Tensor3D;
}
