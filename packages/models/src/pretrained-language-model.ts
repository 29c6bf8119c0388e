import * as tf from '@tensorflow/tfjs-core';
import { softcapLogits } from '@tsformer/attention';
import {
  type LoadWeightsOptions,
  type LoadWeightsReport,
  Module,
  type WeightSource,
} from '@tsformer/core-tensor';
import {
  type CausalLM,
  type GenerateInputs,
  type GenerateOptions,
  type GenerateOutput,
  type GenerationOptions,
  type GenerationStep,
  generate,
  generateAll,
  type PositionLimit,
  releaseGenerations,
  type Seq2SeqLM,
} from '@tsformer/decoding';
import type { Linear } from '@tsformer/layers';
import { ModelInputError } from './errors.js';
import type { LayerStack } from './layer-stack.js';

/**
 * What every language model shares, decoder-only or encoder-decoder: its config, its generation
 * defaults, where its positions end, the language-model head (with Gemma 2's final soft cap),
 * `generate` / `generateAll`, weight loading that leaves the model holding every tensor it keeps, and
 * `dispose`.
 */
export abstract class PretrainedLanguageModel<Config> extends Module {
  /** What `generate` starts from (HF `model.generation_config`). */
  readonly generationConfig: GenerationOptions;
  /**
   * Where the model's positions end (decoding's `PositionLimit`): `learned` for a position table
   * (GPT-2, BART, Marian's sinusoid table), `extrapolating` for rotary positions, undefined for none
   * (T5's relative buckets).
   */
  abstract readonly positionLimit: PositionLimit | undefined;
  /** Rows of the logits' last axis. */
  abstract readonly vocabSize: number;
  /** The language-model head (`lm_head`), registered by the family (tied or not). */
  abstract readonly lmHead: Linear;
  /**
   * Hook: final logit soft-capping (Gemma 2's `final_logit_softcapping`): logits become
   * `tanh(logits / cap) · cap`. Default null (none).
   */
  readonly finalLogitSoftcapping: number | null = null;

  constructor(
    readonly config: Config,
    generationConfig: GenerationOptions,
  ) {
    super();
    this.generationConfig = generationConfig;
  }

  /**
   * Generates as Hugging Face's `generate` (decoding's `generate` on this model): yields each step's
   * new tokens, returns the sequences. Options are HF's in camelCase (`maxNewTokens`, `numBeams`, ...).
   */
  generate(
    this: CausalLM | Seq2SeqLM,
    inputs: GenerateInputs,
    options?: GenerateOptions,
  ): AsyncGenerator<GenerationStep, GenerateOutput, undefined> {
    return generate(this, inputs, options);
  }

  /** `generate` run to the end: the sequences (and beam scores). */
  generateAll(
    this: CausalLM | Seq2SeqLM,
    inputs: GenerateInputs,
    options?: GenerateOptions,
  ): Promise<GenerateOutput> {
    return generateAll(this, inputs, options);
  }

  /**
   * Loads weights by name, then builds what the stacks keep on the device (rotary tables), so a
   * loaded model already holds every tensor it keeps and a forward leaves nothing new behind.
   */
  override async loadWeights(source: WeightSource, options?: LoadWeightsOptions): Promise<LoadWeightsReport> {
    const report = await super.loadWeights(source, options);
    for (const stack of this.stacks()) stack.prepareKeptTensors();
    return report;
  }

  /**
   * Frees every parameter and every tensor the stacks keep. The one place every model is released:
   * whatever else a model owns (decoding's live generations of it) is released here, before the weights.
   */
  override dispose(): void {
    // generate() was handed this model as the CausalLM / Seq2SeqLM its subclass implements.
    releaseGenerations(this as unknown as CausalLM | Seq2SeqLM);
    super.dispose();
  }

  /** The model's stacks (the decoder-only trunk; the encoder and the decoder). */
  protected abstract stacks(): LayerStack<unknown>[];

  /**
   * Hook: the final hidden states `[batch, positions, hidden]` → logits `[batch, positions, vocab]`.
   * Default: `lm_head`, then the final soft cap when set. BART adds `final_logits_bias`; T5 scales a tied
   * head's input by `d_model^-0.5`.
   */
  protected logits(hidden: tf.Tensor3D): tf.Tensor3D {
    const logits = this.lmHead.forward(hidden) as tf.Tensor3D;
    const cap = this.finalLogitSoftcapping;
    return cap === null ? logits : softcapLogits(logits, cap);
  }
}

/**
 * The last `logitsToKeep` positions of `hidden` `[batch, seq, hidden]` (all when undefined); a
 * `ModelInputError` for a value outside [1, seq] (every model, decoder-only or encoder-decoder).
 */
export function keepLastPositions(hidden: tf.Tensor3D, logitsToKeep: number | undefined): tf.Tensor3D {
  if (logitsToKeep === undefined) return hidden;
  const length = hidden.shape[1];
  if (!Number.isInteger(logitsToKeep) || logitsToKeep < 1 || logitsToKeep > length) {
    throw new ModelInputError(`logitsToKeep must be an integer in [1, ${length}], got ${logitsToKeep}`);
  }
  if (logitsToKeep === length) return hidden;
  return tf.slice(hidden, [0, length - logitsToKeep, 0], [-1, logitsToKeep, -1]);
}
