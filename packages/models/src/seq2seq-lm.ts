import * as tf from '@tensorflow/tfjs-core';
import { EncoderDecoderCache } from '@tsformer/cache';
import type {
  CacheImplementation,
  Seq2SeqEncoding,
  Seq2SeqForwardInputs,
  Seq2SeqLM,
} from '@tsformer/decoding';
import { ModelInputError } from './errors.js';
import { ForwardStep } from './forward-step.js';
import { checkLabels, sequenceLoss, shiftTokensRight } from './language-model-loss.js';
import { createLayerCaches } from './layer-caches.js';
import type { LayerStack, StackOutput } from './layer-stack.js';
import type { CreateModelOptions } from './model-family.js';
import { keepLastPositions, PretrainedLanguageModel } from './pretrained-language-model.js';
import { Seq2SeqDecoderStep } from './seq2seq-decoder-step.js';
import {
  asEncoderDecoderCache,
  checkEncoderStates,
  checkSourceMask,
  checkTokenIds,
} from './seq2seq-inputs.js';

/** The config fields every encoder-decoder family resolves (its generation defaults). */
export interface Seq2SeqConfig {
  modelType: string;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
  decoderStartTokenId: number | null;
  forcedBosTokenId?: number | null;
  forcedEosTokenId?: number | number[] | null;
}

/** Inputs of a full forward pass: source ids (and padding mask) and the target prefix. */
export interface Seq2SeqForwardInput {
  /** `[batch, source]` int32. */
  inputIds: tf.Tensor2D;
  /** `[batch, source]`, 1 real, 0 padding (right padding). */
  attentionMask?: tf.Tensor2D;
  /**
   * `[batch, target]` int32, starting with `decoder_start_token_id`. Optional with `labels`: then
   * `labels` shifted right (HF's `shift_tokens_right`).
   */
  decoderInputIds?: tf.Tensor2D;
  /**
   * `[batch, target]` int32 target ids, `-100` where no loss is wanted: the output then carries
   * `loss`, the mean cross-entropy of the logits against them.
   */
  labels?: tf.Tensor2D;
  outputAttentions?: boolean;
  outputHiddenStates?: boolean;
}

/** Every output of a full forward pass (HF's `Seq2SeqLMOutput`). */
export interface Seq2SeqForwardOutput {
  /** `[batch, target, vocab]`. */
  logits: tf.Tensor3D;
  /** The mean cross-entropy against `labels`, when they were given. */
  loss?: tf.Scalar;
  /** `[batch, source, hidden]`. */
  encoderLastHiddenState: tf.Tensor3D;
  /** Per encoder layer `[batch, heads, source, source]` (empty unless asked for). */
  encoderAttentions: tf.Tensor4D[];
  /** Per decoder layer `[batch, heads, target, target]` (empty unless asked for). */
  decoderAttentions: tf.Tensor4D[];
  /** Per decoder layer `[batch, heads, target, source]` (empty unless asked for). */
  crossAttentions: tf.Tensor4D[];
  /** Encoder layers + 1 states `[batch, source, hidden]` (empty unless asked for). */
  encoderHiddenStates: tf.Tensor3D[];
  /** Decoder layers + 1 states `[batch, target, hidden]` (empty unless asked for). */
  decoderHiddenStates: tf.Tensor3D[];
}

/**
 * The encoder-decoder skeleton (BART, Marian, the classic Transformer, T5): input checks, a bidirectional
 * `ForwardStep` for the encoder and a `Seq2SeqDecoderStep` for the decoder, `logitsToKeep`, collected
 * attention maps, the `EncoderDecoderCache` factory, decoding's `Seq2SeqLM` and `generate`. A family
 * registers its `encoder` and `decoder` stacks and `lm_head`, gives `hiddenSize` and says where the
 * decoder's positions end.
 */
export abstract class PretrainedSeq2SeqLM<Config extends Seq2SeqConfig = Seq2SeqConfig>
  extends PretrainedLanguageModel<Config>
  implements Seq2SeqLM
{
  readonly kind = 'seq2seq-lm' as const;
  /** The encoder stack (its layers get a bidirectional step). */
  abstract readonly encoder: LayerStack<unknown>;
  /** The decoder stack (its layers get a `Seq2SeqDecoderStep`: causal self-attention, cross-attention). */
  abstract readonly decoder: LayerStack<unknown, Seq2SeqDecoderStep>;
  /** Width of the encoder output the decoder reads (`d_model`). */
  abstract readonly hiddenSize: number;

  constructor(config: Config, options: CreateModelOptions = {}) {
    const { bosTokenId, eosTokenId, padTokenId, decoderStartTokenId, forcedBosTokenId, forcedEosTokenId } =
      config;
    super(
      config,
      options.generationConfig ?? {
        bosTokenId,
        eosTokenId,
        padTokenId,
        decoderStartTokenId,
        ...(forcedBosTokenId !== undefined && { forcedBosTokenId }),
        ...(forcedEosTokenId !== undefined && { forcedEosTokenId }),
      },
    );
  }

  /** A full forward pass (no cache): logits for every target position, encoder output, attention maps. */
  forward(input: Seq2SeqForwardInput): Seq2SeqForwardOutput {
    const { inputIds, attentionMask, labels } = input;
    const outputAttentions = input.outputAttentions ?? false;
    const outputHiddenStates = input.outputHiddenStates ?? false;
    return tf.tidy(() => {
      const decoderInputIds = input.decoderInputIds ?? this.decoderInputsFromLabels(labels);
      if (labels !== undefined) checkLabels(labels, decoderInputIds, 'decoderInputIds');
      const encoded = this.runEncoder(inputIds, attentionMask, outputAttentions, outputHiddenStates);
      const decoded = this.runDecoder(
        {
          decoderInputIds,
          encoderHiddenStates: encoded.lastHiddenState,
          ...(attentionMask && { encoderAttentionMask: attentionMask }),
        },
        outputAttentions,
        outputHiddenStates,
      );
      const logits = this.logits(decoded.lastHiddenState);
      return {
        logits,
        ...(labels && { loss: sequenceLoss(logits, labels) }),
        encoderLastHiddenState: encoded.lastHiddenState,
        encoderAttentions: encoded.attentions,
        decoderAttentions: decoded.attentions,
        crossAttentions: decoded.crossAttentions,
        encoderHiddenStates: encoded.hiddenStates,
        decoderHiddenStates: decoded.hiddenStates,
      };
    });
  }

  /** decoding's encoder entry point: `[batch, source]` ids → `[batch, source, hidden]`. */
  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): Seq2SeqEncoding {
    return {
      lastHiddenState: tf.tidy(() => this.runEncoder(inputIds, attentionMask, false, false).lastHiddenState),
    };
  }

  /** decoding's decoder entry point: the new target tokens' logits, the cache grown in place. */
  decodeLogits(inputs: Seq2SeqForwardInputs): tf.Tensor3D {
    const { logitsToKeep, ...decoderInputs } = inputs;
    return tf.tidy(() => {
      const { lastHiddenState } = this.runDecoder(decoderInputs, false, false);
      return this.logits(keepLastPositions(lastHiddenState, logitsToKeep));
    });
  }

  /**
   * The decoder's self-attention cache (per layer: growing, or `static` for `maxLength` tokens, or a
   * sliding window) plus per-layer cross-attention keys/values computed once from the encoder output.
   */
  createCache(
    _batchSize: number,
    maxLength: number,
    implementation: CacheImplementation = 'dynamic',
  ): EncoderDecoderCache {
    return new EncoderDecoderCache(createLayerCaches(this.decoder.slidingWindows, maxLength, implementation));
  }

  protected stacks(): LayerStack<unknown>[] {
    return [this.encoder, this.decoder];
  }

  /** HF's `shift_tokens_right(labels, pad_token_id, decoder_start_token_id)`, or a `ModelInputError`. */
  private decoderInputsFromLabels(labels: tf.Tensor2D | undefined): tf.Tensor2D {
    if (labels === undefined) throw new ModelInputError('forward needs decoderInputIds or labels');
    checkTokenIds(labels, 'labels');
    const { padTokenId, decoderStartTokenId } = this.config;
    if (padTokenId === null || decoderStartTokenId === null) {
      throw new ModelInputError(
        'labels without decoderInputIds need pad_token_id and decoder_start_token_id in config.json',
      );
    }
    return shiftTokensRight(labels, padTokenId, decoderStartTokenId);
  }

  private runEncoder(
    inputIds: tf.Tensor2D,
    attentionMask: tf.Tensor2D | undefined,
    outputAttentions: boolean,
    outputHiddenStates: boolean,
  ): StackOutput {
    checkTokenIds(inputIds, 'inputIds');
    checkSourceMask(attentionMask, inputIds.shape[0], inputIds.shape[1], 'attentionMask');
    const step = new ForwardStep(
      inputIds,
      this.encoder.layerHeads,
      { attentionMask, outputAttentions },
      false,
    );
    return this.encoder.forward(inputIds, step, outputHiddenStates);
  }

  private runDecoder(
    inputs: Omit<Seq2SeqForwardInputs, 'logitsToKeep'>,
    outputAttentions: boolean,
    outputHiddenStates: boolean,
  ): StackOutput {
    const { decoderInputIds, encoderHiddenStates, encoderAttentionMask } = inputs;
    checkTokenIds(decoderInputIds, 'decoderInputIds');
    const batchSize = decoderInputIds.shape[0];
    checkEncoderStates(encoderHiddenStates, batchSize, this.hiddenSize);
    checkSourceMask(encoderAttentionMask, batchSize, encoderHiddenStates.shape[1], 'encoderAttentionMask');
    const cache = asEncoderDecoderCache(inputs.cache, this.decoder.layers.length);
    const step = new Seq2SeqDecoderStep(decoderInputIds, this.decoder.layerHeads, {
      encoderHiddenStates,
      ...(encoderAttentionMask && { encoderAttentionMask }),
      ...(cache && { cache }),
      outputAttentions,
    });
    return this.decoder.forward(decoderInputIds, step, outputHiddenStates);
  }
}
