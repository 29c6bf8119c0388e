import * as tf from '@tensorflow/tfjs-core';
import { type AttentionImplementation, getAttentionImplementation } from '@tsformer/attention';
import { ModuleList } from '@tsformer/core-tensor';
import { Dropout, Embedding, Linear, RMSNorm } from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import { LayerStack } from '../layer-stack.js';
import type { CreateModelOptions } from '../model-family.js';
import type { Seq2SeqDecoderStep } from '../seq2seq-decoder-step.js';
import { PretrainedSeq2SeqLM } from '../seq2seq-lm.js';
import type { T5Config } from './t5-config.js';
import { type T5BlockOptions, T5DecoderBlock, T5EncoderBlock } from './t5-layers.js';
import { RelativeAttentionBias } from './t5-relative-position.js';

/**
 * A T5 stack (`T5Stack`): the shared token embeddings, no absolute positions (the first block's
 * relative bias serves every block), dropout, the blocks, a final RMS norm and dropout.
 */
abstract class T5Stack<Step extends ForwardStep> extends LayerStack<undefined, Step> {
  readonly finalLayerNorm: RMSNorm;
  readonly dropout: Dropout;

  constructor(
    config: T5Config,
    readonly embedTokens: Embedding,
  ) {
    super();
    this.register('embed_tokens', embedTokens);
    this.finalLayerNorm = this.register(
      'final_layer_norm',
      new RMSNorm(config.dModel, { eps: config.layerNormEpsilon }),
    );
    this.dropout = this.register('dropout', new Dropout(config.dropoutRate));
  }

  /** `[batch, seq]` ids → `[batch, seq, d_model]` (no scale, no positions). */
  protected embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    return this.dropout.forward(this.embedTokens.forward(inputIds)) as tf.Tensor3D;
  }

  protected layerContext(): undefined {
    return undefined;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.dropout.forward(this.finalLayerNorm.forward(hidden)) as tf.Tensor3D;
  }
}

/** The blocks' construction options, with one bias table for the whole stack (held by block 0). */
function blockOptions(
  config: T5Config,
  attention: AttentionImplementation,
  bidirectional: boolean,
  numLayers: number,
): T5BlockOptions[] {
  const relativeAttentionBias = new RelativeAttentionBias(config.numHeads, {
    bidirectional,
    numBuckets: config.relativeAttentionNumBuckets,
    maxDistance: config.relativeAttentionMaxDistance,
  });
  return Array.from({ length: numLayers }, (_, layerIndex) => ({
    config,
    attention,
    layerIndex,
    relativeAttentionBias,
  }));
}

/** The encoder: bidirectional self-attention with bidirectional relative buckets. */
export class T5Encoder extends T5Stack<ForwardStep> {
  readonly layers: ModuleList<T5EncoderBlock>;

  constructor(config: T5Config, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const blocks = blockOptions(config, attention, true, config.numLayers).map(
      (options) => new T5EncoderBlock(options),
    );
    this.layers = this.register('block', new ModuleList(blocks));
  }
}

/** The decoder: causal self-attention with causal relative buckets, then cross-attention, in every block. */
export class T5Decoder extends T5Stack<Seq2SeqDecoderStep> {
  readonly layers: ModuleList<T5DecoderBlock>;

  constructor(config: T5Config, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const blocks = blockOptions(config, attention, false, config.numDecoderLayers).map(
      (options) => new T5DecoderBlock(options),
    );
    this.layers = this.register('block', new ModuleList(blocks));
  }
}

/**
 * T5 for generation (`T5ForConditionalGeneration`, also T5 v1.1 and flan-t5): one `shared` token table
 * for the encoder, the decoder and (tied) the head; `logits = lm_head(decoder_output · d_model^-0.5)`
 * with the scale only where `scale_decoder_outputs` says (the tied T5 head). Relative positions have no
 * limit: `positionLimit` is undefined. Implements `@tsformer/decoding`'s `Seq2SeqLM`.
 */
export class T5ForConditionalGeneration extends PretrainedSeq2SeqLM<T5Config> {
  readonly shared: Embedding;
  readonly encoder: T5Encoder;
  readonly decoder: T5Decoder;
  readonly lmHead: Linear;
  readonly positionLimit = undefined;

  constructor(config: T5Config, options: CreateModelOptions = {}) {
    super(config, options);
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    const { vocabSize, dModel, tieWordEmbeddings } = config;
    // A table tied to lm_head is stored as the head wants it (see EmbeddingOptions.transposed).
    this.shared = this.register(
      'shared',
      new Embedding(vocabSize, dModel, { transposed: tieWordEmbeddings }),
    );
    this.encoder = this.register('encoder', new T5Encoder(config, this.shared, attention));
    this.decoder = this.register('decoder', new T5Decoder(config, this.shared, attention));
    this.lmHead = this.register(
      'lm_head',
      new Linear(dModel, vocabSize, {
        bias: false,
        ...(tieWordEmbeddings && { sharedWeight: this.shared.weight }),
      }),
    );
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get hiddenSize(): number {
    return this.config.dModel;
  }

  /** `[batch, target, d_model]` → `[batch, target, vocab]`: scaled by `d_model^-0.5` first where the config says. */
  protected override logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const scaled = this.config.scaleDecoderOutputs ? tf.mul(hidden, this.config.dModel ** -0.5) : hidden;
    return super.logits(scaled as tf.Tensor3D);
  }
}
