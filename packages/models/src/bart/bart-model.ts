import * as tf from '@tensorflow/tfjs-core';
import { type AttentionImplementation, getAttentionImplementation } from '@tsformer/attention';
import { Module, ModuleList, type Parameter } from '@tsformer/core-tensor';
import type { PositionLimit } from '@tsformer/decoding';
import {
  Dropout,
  Embedding,
  LayerNorm,
  LearnedPositionalEmbedding,
  Linear,
  SinusoidalPositionalEmbedding,
} from '@tsformer/layers';
import type { ForwardStep } from '../forward-step.js';
import { LayerStack } from '../layer-stack.js';
import type { CreateModelOptions } from '../model-family.js';
import type { Seq2SeqDecoderStep } from '../seq2seq-decoder-step.js';
import { PretrainedSeq2SeqLM } from '../seq2seq-lm.js';
import type { BartConfig } from './bart-config.js';
import { BartDecoderLayer, BartEncoderLayer } from './bart-layers.js';

function positionEmbedding(config: BartConfig): LearnedPositionalEmbedding {
  const { maxPositionEmbeddings, dModel } = config;
  switch (config.positionEncoding) {
    case 'learned-offset-2':
      return new LearnedPositionalEmbedding(maxPositionEmbeddings, dModel, { offset: 2 });
    case 'sinusoidal':
      return new SinusoidalPositionalEmbedding(maxPositionEmbeddings, dModel, { layout: 'halves' });
    case 'sinusoidal-interleaved':
      return new SinusoidalPositionalEmbedding(maxPositionEmbeddings, dModel, { layout: 'interleaved' });
  }
}

/**
 * What the encoder and the decoder share: token embeddings (times sqrt(d_model) with
 * `scale_embedding`), positions, `layernorm_embedding`, dropout, and mBART's final `layer_norm`.
 */
abstract class BartStack<Step extends ForwardStep> extends LayerStack<undefined, Step> {
  readonly embedScale: number;
  readonly embedPositions: LearnedPositionalEmbedding;
  readonly layernormEmbedding: LayerNorm | undefined;
  readonly layerNorm: LayerNorm | undefined;
  readonly dropout: Dropout;

  constructor(
    config: BartConfig,
    readonly embedTokens: Embedding,
  ) {
    super();
    this.embedScale = config.scaleEmbedding ? Math.sqrt(config.dModel) : 1;
    this.register('embed_tokens', embedTokens);
    this.embedPositions = this.register('embed_positions', positionEmbedding(config));
    this.layernormEmbedding = config.layernormEmbedding
      ? this.register('layernorm_embedding', new LayerNorm(config.dModel))
      : undefined;
    this.layerNorm = config.addFinalLayerNorm
      ? this.register('layer_norm', new LayerNorm(config.dModel))
      : undefined;
    this.dropout = this.register('dropout', new Dropout(config.dropout));
  }

  /** `[batch, seq]` ids at positions `past…past+seq-1` -> `[batch, seq, dModel]`. */
  protected embed(ids: tf.Tensor2D, step: Step): tf.Tensor3D {
    const tokens = tf.mul(this.embedTokens.forward(ids), this.embedScale); // [batch, seq, dModel]
    const past = step.pastLength;
    const positionIds = tf.range(past, past + step.queryLength, 1, 'int32'); // one row serves every batch row
    let hidden = tf.add(tokens, this.embedPositions.forward(positionIds, past + step.queryLength - 1)); // + [seq, dModel]
    if (this.layernormEmbedding) hidden = this.layernormEmbedding.forward(hidden);
    return this.dropout.forward(hidden) as tf.Tensor3D;
  }

  protected layerContext(): undefined {
    return undefined;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.layerNorm ? (this.layerNorm.forward(hidden) as tf.Tensor3D) : hidden;
  }
}

/** Bidirectional self-attention over the source (`BartEncoder`). */
export class BartEncoder extends BartStack<ForwardStep> {
  readonly layers: ModuleList<BartEncoderLayer>;

  constructor(config: BartConfig, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const layers = Array.from(
      { length: config.encoderLayers },
      (_, layerIndex) => new BartEncoderLayer(config, attention, layerIndex),
    );
    this.layers = this.register('layers', new ModuleList(layers));
  }
}

/** Causal self-attention plus cross-attention over the encoder output in every layer (`BartDecoder`). */
export class BartDecoder extends BartStack<Seq2SeqDecoderStep> {
  readonly layers: ModuleList<BartDecoderLayer>;

  constructor(config: BartConfig, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const layers = Array.from(
      { length: config.decoderLayers },
      (_, layerIndex) => new BartDecoderLayer(config, attention, layerIndex),
    );
    this.layers = this.register('layers', new ModuleList(layers));
  }
}

/**
 * Encoder and decoder with their token embeddings (`BartModel`): one `shared` table for both when
 * the config shares them (the checkpoint's `model.shared.weight`; `embed_tokens` are the same
 * parameter under the encoder's and decoder's names), else one table each.
 */
export class BartModel extends Module {
  readonly shared: Embedding | undefined;
  readonly encoder: BartEncoder;
  readonly decoder: BartDecoder;

  constructor(config: BartConfig, attention: AttentionImplementation) {
    super();
    const { vocabSize, decoderVocabSize, dModel } = config;
    // A table tied to lm_head is stored as the head wants it (see EmbeddingOptions.transposed).
    const transposed = config.tieWordEmbeddings;
    const paddingIdx = config.padTokenId;
    this.shared = config.shareEncoderDecoderEmbeddings
      ? this.register('shared', new Embedding(vocabSize, dModel, { transposed, paddingIdx }))
      : undefined;
    const encoderTokens = this.shared ?? new Embedding(vocabSize, dModel, { paddingIdx });
    const decoderTokens = this.shared ?? new Embedding(decoderVocabSize, dModel, { transposed, paddingIdx });
    this.encoder = this.register('encoder', new BartEncoder(config, encoderTokens, attention));
    this.decoder = this.register('decoder', new BartDecoder(config, decoderTokens, attention));
  }
}

/**
 * BART (and Marian, and the classic Transformer) for generation (`BartForConditionalGeneration`):
 * `logits = lm_head(decoder(...)) + final_logits_bias`, `lm_head` tied to the decoder's token table
 * with `tie_word_embeddings`. Implements `@tsformer/decoding`'s `Seq2SeqLM`.
 */
export class BartForConditionalGeneration extends PretrainedSeq2SeqLM<BartConfig> {
  readonly model: BartModel;
  readonly lmHead: Linear;
  /**
   * `[1, decoderVocab]`, added to the logits (BART, Marian). A buffer in Hugging Face: loaded with
   * the weights but not counted as a parameter.
   */
  readonly finalLogitsBias: Parameter | undefined;
  /** Learned (BART) or sinusoid-table (Marian) positions: the table ends at `max_position_embeddings`. */
  readonly positionLimit: PositionLimit;

  constructor(config: BartConfig, options: CreateModelOptions = {}) {
    super(config, options);
    const attention = getAttentionImplementation(options.attentionImplementation ?? 'eager');
    this.model = this.register('model', new BartModel(config, attention));
    const tiedWeight = config.tieWordEmbeddings ? this.model.decoder.embedTokens.weight : undefined;
    this.lmHead = this.register(
      'lm_head',
      new Linear(config.dModel, config.decoderVocabSize, {
        bias: false,
        ...(tiedWeight && { sharedWeight: tiedWeight }),
      }),
    );
    this.finalLogitsBias = config.finalLogitsBias
      ? this.parameter('final_logits_bias', [1, config.decoderVocabSize])
      : undefined;
    // A buffer in Hugging Face: loaded and saved, never trained.
    if (this.finalLogitsBias) this.finalLogitsBias.requiresGrad = false;
    this.positionLimit = { maxPositions: config.maxPositionEmbeddings, kind: 'learned' };
  }

  get vocabSize(): number {
    return this.config.decoderVocabSize;
  }

  get hiddenSize(): number {
    return this.config.dModel;
  }

  get encoder(): BartEncoder {
    return this.model.encoder;
  }

  get decoder(): BartDecoder {
    return this.model.decoder;
  }

  /** Hugging Face's `num_parameters()`: every parameter once, the `final_logits_bias` buffer excluded. */
  override numParameters(): number {
    return super.numParameters() - (this.finalLogitsBias?.size ?? 0);
  }

  /** `[batch, target, dModel]` -> `[batch, target, decoderVocab]`: `lm_head`, plus `final_logits_bias`. */
  protected override logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const logits = super.logits(hidden);
    return this.finalLogitsBias ? tf.add(logits, this.finalLogitsBias.tensor) : logits;
  }
}
