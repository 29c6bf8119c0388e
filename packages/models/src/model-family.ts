import type { LoadWeightsOptions, LoadWeightsReport, Module, WeightSource } from '@tsformer/core-tensor';
import type { CausalLM, GenerationOptions, Seq2SeqLM } from '@tsformer/decoding';
import type { RawConfig } from './config-fields.js';
import type { ModelDescription } from './model-description.js';

/** A model built by a family: a `Module` (HF-named parameters) that decoding can drive. */
export type PretrainedModel = Module & { readonly config: unknown } & (CausalLM | Seq2SeqLM);

/** Options every family's `createModel` accepts. */
export interface CreateModelOptions {
  /** Name of a registered attention implementation (HF `attn_implementation`; default `eager`). */
  attentionImplementation?: string;
  /**
   * The model's generation defaults (what `generate` starts from); default: the config's token ids.
   * `fromPretrained` passes config.json's token ids overlaid with generation_config.json.
   */
  generationConfig?: GenerationOptions;
}

/**
 * Options of a family's `loadWeights` (the family supplies the name mapping): `dryRun` checks a
 * checkpoint's names and shapes against the model without reading a tensor; `loadParameter` lets a
 * backend's kernels load a weight in their own layout.
 */
export type FamilyLoadOptions = Pick<LoadWeightsOptions, 'strict' | 'dryRun' | 'loadParameter'>;

/**
 * One Hugging Face `model_type` (DESIGN.md "A model family"): how its config.json resolves, what
 * it describes (sizes and counts, computed), how its model is built (parameters exist before any weight is loaded, so a config alone can be counted),
 * and how a checkpoint loads into it (the module-tree names plus the family's short list of exceptions).
 */
export interface ModelFamily<Config = unknown, Model extends PretrainedModel = PretrainedModel> {
  /** The `model_type` of config.json this family reads. */
  readonly modelType: string;
  /** What the model is: a decoder-only `CausalLM` or an encoder-decoder `Seq2SeqLM`. */
  readonly task: 'causal-lm' | 'seq2seq-lm';
  resolveConfig(raw: RawConfig): Config;
  /**
   * The sizes and parameter counts of a resolved config, from its numbers alone (no module is built):
   * what `inspect`, `chat`, `bench` and calculators read instead of guessing from field names.
   */
  describe(config: Config): ModelDescription;
  createModel(config: Config, options?: CreateModelOptions): Model;
  /**
   * Loads a checkpoint by name (or, with `dryRun`, only matches it); errors name every missing,
   * unexpected or mis-shaped tensor.
   */
  loadWeights(model: Model, source: WeightSource, options?: FamilyLoadOptions): Promise<LoadWeightsReport>;
  /**
   * Hook: module-tree names that `save_pretrained` leaves out of the checkpoint because the model
   * recomputes them on loading (Marian's sinusoid position tables); default none.
   */
  unsavedWeights?(model: Model): readonly string[];
}
