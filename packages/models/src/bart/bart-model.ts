import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionImplementation,
  buildPaddingMask,
  getAttentionImplementation,
} from '@tsformer/attention';
import { DynamicCache, EncoderDecoderCache, StaticCache } from '@tsformer/cache';
import { Module, ModuleList, type Parameter } from '@tsformer/core-tensor';
import {
  type CacheImplementation,
  type GenerateInputs,
  type GenerateOptions,
  type GenerateOutput,
  type GenerationOptions,
  type GenerationStep,
  generate,
  generateAll,
  type Seq2SeqEncoding,
  type Seq2SeqForwardInputs,
  type Seq2SeqLM,
} from '@tsformer/decoding';
import {
  Dropout,
  Embedding,
  LayerNorm,
  LearnedPositionalEmbedding,
  Linear,
  SinusoidalPositionalEmbedding,
} from '@tsformer/layers';
import { DecoderStep } from '../decoder-step.js';
import type { CreateModelOptions } from '../model-family.js';
import type { BartConfig } from './bart-config.js';
import { asEncoderDecoderCache, checkEncoderStates, checkSourceMask, checkTokenIds } from './bart-inputs.js';
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
abstract class BartStack extends Module {
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
  protected embed(ids: tf.Tensor2D, past: number): tf.Tensor3D {
    const tokens = tf.mul(this.embedTokens.forward(ids), this.embedScale); // [batch, seq, dModel]
    const length = ids.shape[1];
    const positionIds = tf.range(past, past + length, 1, 'int32');
    let hidden = tf.add(tokens, this.embedPositions.forward(positionIds, past + length - 1)); // + [seq, dModel]
    if (this.layernormEmbedding) hidden = this.layernormEmbedding.forward(hidden);
    return this.dropout.forward(hidden) as tf.Tensor3D;
  }

  protected finalNorm(hidden: tf.Tensor3D): tf.Tensor3D {
    return this.layerNorm ? (this.layerNorm.forward(hidden) as tf.Tensor3D) : hidden;
  }
}

/** The encoder's output: last hidden states and, when asked for, each layer's attention maps. */
export interface BartEncoderOutput {
  /** `[batch, source, dModel]`. */
  lastHiddenState: tf.Tensor3D;
  /** Per layer `[batch, heads, source, source]` (empty unless asked for). */
  attentions: tf.Tensor4D[];
}

/** Bidirectional self-attention over the source (`BartEncoder`). */
export class BartEncoder extends BartStack {
  readonly layers: ModuleList<BartEncoderLayer>;

  constructor(config: BartConfig, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const layers = Array.from(
      { length: config.encoderLayers },
      () => new BartEncoderLayer(config, attention),
    );
    this.layers = this.register('layers', new ModuleList(layers));
  }

  /** `inputIds` `[batch, source]` int32; `attentionMask` `[batch, source]` (1 real, 0 padding). */
  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, outputAttentions = false): BartEncoderOutput {
    checkTokenIds(inputIds, 'inputIds');
    checkSourceMask(attentionMask, inputIds.shape[0], inputIds.shape[1], 'attentionMask');
    return tf.tidy(() => {
      let hidden = this.embed(inputIds, 0); // [batch, source, dModel]
      const mask = attentionMask ? buildPaddingMask(attentionMask, inputIds.shape[1]) : null;
      const attentions: tf.Tensor4D[] = [];
      for (const layer of this.layers.items) {
        const out = layer.forward(hidden, mask, outputAttentions);
        hidden = out.hidden;
        if (out.attentions) attentions.push(out.attentions);
      }
      return { lastHiddenState: this.finalNorm(hidden), attentions };
    });
  }
}

/** What the decoder is given at one step. */
export interface BartDecoderInput {
  /** `[batch, target]` int32: the whole target prefix, or only the new tokens when a cache is given. */
  decoderInputIds: tf.Tensor2D;
  /** `[batch, source, dModel]`. */
  encoderHiddenStates: tf.Tensor3D;
  /** `[batch, source]`, 1 real, 0 padding. */
  encoderAttentionMask?: tf.Tensor2D;
  /** Grows by this step's keys/values; holds the cross-attention keys/values after the first step. */
  cache?: EncoderDecoderCache;
  outputAttentions?: boolean;
}

/** The decoder's output: last hidden states and, when asked for, attention maps per layer. */
export interface BartDecoderOutput {
  /** `[batch, target, dModel]`. */
  lastHiddenState: tf.Tensor3D;
  /** Per layer `[batch, heads, target, pastAndTarget]` (empty unless asked for). */
  attentions: tf.Tensor4D[];
  /** Per layer `[batch, heads, target, source]` (empty unless asked for). */
  crossAttentions: tf.Tensor4D[];
}

/** Causal self-attention plus cross-attention over the encoder output in every layer (`BartDecoder`). */
export class BartDecoder extends BartStack {
  readonly layers: ModuleList<BartDecoderLayer>;
  /** Attention heads of each layer (what a decoder step's head masks are shaped by). */
  private readonly heads: readonly number[];

  constructor(config: BartConfig, embedTokens: Embedding, attention: AttentionImplementation) {
    super(config, embedTokens);
    const layers = Array.from(
      { length: config.decoderLayers },
      (_, layerIndex) => new BartDecoderLayer(config, attention, layerIndex),
    );
    this.heads = layers.map(() => config.decoderAttentionHeads);
    this.layers = this.register('layers', new ModuleList(layers));
  }

  forward(input: BartDecoderInput): BartDecoderOutput {
    const { decoderInputIds, encoderHiddenStates, encoderAttentionMask, cache } = input;
    checkTokenIds(decoderInputIds, 'decoderInputIds');
    const [batchSize, targetLength] = decoderInputIds.shape;
    checkEncoderStates(encoderHiddenStates, batchSize, this.embedTokens.embeddingDim);
    checkSourceMask(encoderAttentionMask, batchSize, encoderHiddenStates.shape[1], 'encoderAttentionMask');
    const outputAttentions = input.outputAttentions ?? false;
    return tf.tidy(() => {
      const past = cache?.getSeqLength() ?? 0;
      let hidden = this.embed(decoderInputIds, past); // [batch, target, dModel]
      // Causal self-attention masks, built for the keys the cache returns (memoised per key range).
      const step = new DecoderStep(decoderInputIds, this.layers.length, this.heads, {
        ...(cache && { cache: cache.selfAttention }),
      });
      const crossMask = encoderAttentionMask ? buildPaddingMask(encoderAttentionMask, targetLength) : null;
      const attentions: tf.Tensor4D[] = [];
      const crossAttentions: tf.Tensor4D[] = [];
      for (const layer of this.layers.items) {
        const out = layer.forward(hidden, step, encoderHiddenStates, crossMask, cache, outputAttentions);
        hidden = out.hidden;
        if (out.selfAttentions) attentions.push(out.selfAttentions);
        if (out.crossAttentions) crossAttentions.push(out.crossAttentions);
      }
      return { lastHiddenState: this.finalNorm(hidden), attentions, crossAttentions };
    });
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
    this.shared = config.shareEncoderDecoderEmbeddings
      ? this.register('shared', new Embedding(vocabSize, dModel, { transposed }))
      : undefined;
    const encoderTokens = this.shared ?? new Embedding(vocabSize, dModel);
    const decoderTokens = this.shared ?? new Embedding(decoderVocabSize, dModel, { transposed });
    this.encoder = this.register('encoder', new BartEncoder(config, encoderTokens, attention));
    this.decoder = this.register('decoder', new BartDecoder(config, decoderTokens, attention));
  }
}

/** Every output of a full forward pass (HF's `Seq2SeqLMOutput`). */
export interface BartForwardOutput {
  /** `[batch, target, decoderVocab]`. */
  logits: tf.Tensor3D;
  /** `[batch, source, dModel]`. */
  encoderLastHiddenState: tf.Tensor3D;
  /** Per encoder layer `[batch, heads, source, source]` (empty unless asked for). */
  encoderAttentions: tf.Tensor4D[];
  /** Per decoder layer `[batch, heads, target, target]` (empty unless asked for). */
  decoderAttentions: tf.Tensor4D[];
  /** Per decoder layer `[batch, heads, target, source]` (empty unless asked for). */
  crossAttentions: tf.Tensor4D[];
}

/** Inputs of a full forward pass: source ids (and padding mask) and the target prefix. */
export interface BartForwardInput {
  /** `[batch, source]` int32. */
  inputIds: tf.Tensor2D;
  /** `[batch, source]`, 1 real, 0 padding (right padding). */
  attentionMask?: tf.Tensor2D;
  /** `[batch, target]` int32, starting with `decoder_start_token_id`. */
  decoderInputIds: tf.Tensor2D;
  outputAttentions?: boolean;
}

/**
 * BART (and Marian, and the classic Transformer) for generation (`BartForConditionalGeneration`):
 * `logits = lm_head(decoder(...)) + final_logits_bias`, `lm_head` tied to the decoder's token table
 * with `tie_word_embeddings`. Implements `@tsformer/decoding`'s `Seq2SeqLM`.
 */
export class BartForConditionalGeneration extends Module implements Seq2SeqLM {
  readonly kind = 'seq2seq-lm' as const;
  readonly model: BartModel;
  readonly lmHead: Linear;
  /**
   * `[1, decoderVocab]`, added to the logits (BART, Marian). A buffer in Hugging Face: loaded with
   * the weights but not counted as a parameter.
   */
  readonly finalLogitsBias: Parameter | undefined;
  /** What `generate` starts from (HF `model.generation_config`): generation_config.json, else the config's ids. */
  readonly generationConfig: GenerationOptions;

  constructor(
    readonly config: BartConfig,
    options: CreateModelOptions = {},
  ) {
    super();
    const { bosTokenId, eosTokenId, padTokenId, decoderStartTokenId, forcedBosTokenId, forcedEosTokenId } =
      config;
    this.generationConfig = options.generationConfig ?? {
      bosTokenId,
      eosTokenId,
      padTokenId,
      decoderStartTokenId,
      forcedBosTokenId,
      forcedEosTokenId,
    };
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
  }

  get vocabSize(): number {
    return this.config.decoderVocabSize;
  }

  /** Generates as Hugging Face's `generate` for an encoder-decoder: `inputs` are the source ids. */
  generate(
    inputs: GenerateInputs,
    options?: GenerateOptions,
  ): AsyncGenerator<GenerationStep, GenerateOutput, undefined> {
    return generate(this, inputs, options);
  }

  /** `generate` run to the end: the decoder sequences (and beam scores). */
  generateAll(inputs: GenerateInputs, options?: GenerateOptions): Promise<GenerateOutput> {
    return generateAll(this, inputs, options);
  }

  /** Hugging Face's `num_parameters()`: every parameter once, the `final_logits_bias` buffer excluded. */
  override numParameters(): number {
    return super.numParameters() - (this.finalLogitsBias?.size ?? 0);
  }

  /** A full forward pass (no cache): logits for every target position, encoder output, attention maps. */
  forward(input: BartForwardInput): BartForwardOutput {
    const { inputIds, attentionMask, decoderInputIds, outputAttentions = false } = input;
    return tf.tidy(() => {
      const encoded = this.model.encoder.forward(inputIds, attentionMask, outputAttentions);
      const decoded = this.model.decoder.forward({
        decoderInputIds,
        encoderHiddenStates: encoded.lastHiddenState,
        ...(attentionMask && { encoderAttentionMask: attentionMask }),
        outputAttentions,
      });
      return {
        logits: this.project(decoded.lastHiddenState),
        encoderLastHiddenState: encoded.lastHiddenState,
        encoderAttentions: encoded.attentions,
        decoderAttentions: decoded.attentions,
        crossAttentions: decoded.crossAttentions,
      };
    });
  }

  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): Seq2SeqEncoding {
    return { lastHiddenState: this.model.encoder.forward(inputIds, attentionMask).lastHiddenState };
  }

  decodeLogits(inputs: Seq2SeqForwardInputs): tf.Tensor3D {
    const { decoderInputIds, encoderHiddenStates, encoderAttentionMask, logitsToKeep } = inputs;
    const cache = asEncoderDecoderCache(inputs.cache, this.config.decoderLayers);
    return tf.tidy(() => {
      const { lastHiddenState } = this.model.decoder.forward({
        decoderInputIds,
        encoderHiddenStates,
        ...(encoderAttentionMask && { encoderAttentionMask }),
        ...(cache && { cache }),
      });
      const targetLength = lastHiddenState.shape[1];
      const kept = Math.min(logitsToKeep ?? targetLength, targetLength);
      return this.project(tf.slice(lastHiddenState, [0, targetLength - kept, 0], [-1, kept, -1]));
    });
  }

  /**
   * The decoder's self-attention cache (growing, or `static`: allocated for `maxLength` tokens) plus
   * per-layer cross-attention keys/values computed once from the encoder output.
   */
  createCache(
    _batchSize: number,
    maxLength: number,
    implementation: CacheImplementation = 'dynamic',
  ): EncoderDecoderCache {
    const layers = this.config.decoderLayers;
    return new EncoderDecoderCache(
      implementation === 'static' ? new StaticCache(layers, maxLength) : new DynamicCache(layers),
    );
  }

  /** `[batch, target, dModel]` -> `[batch, target, decoderVocab]`. */
  private project(hidden: tf.Tensor3D): tf.Tensor3D {
    const logits = this.lmHead.forward(hidden) as tf.Tensor3D;
    return this.finalLogitsBias ? tf.add(logits, this.finalLogitsBias.tensor) : logits;
  }
}
