import type { CacheImplementation } from '../language-model.js';
/** Token ids, one list per row (batch × beams or batch × returned sequences). */
export type TokenRows = readonly (readonly number[])[];

/**
 * Generation parameters in camelCase, each the Hugging Face GenerationConfig field of the same
 * snake_case name (`maxNewTokens` is `max_new_tokens`). Unset (`undefined`) means "inherit from the
 * layer below"; `null` means "unset here", as `None` does in Hugging Face.
 */
export interface GenerationOptions {
  /** Total length (prompt included for decoder-only models); `maxNewTokens` wins when both are set. */
  maxLength?: number | null;
  maxNewTokens?: number | null;
  minLength?: number | null;
  minNewTokens?: number | null;
  /** Beam search: stop when `numBeams` hypotheses are done (true), by heuristic (false), or never early. */
  earlyStopping?: boolean | 'never' | null;
  /** Seconds; generation stops after the step that passes it. */
  maxTime?: number | null;
  /** Stop a row once the decoded text of its continuation ends with one of these (needs a `tokenDecoder`). */
  stopStrings?: string | readonly string[] | null;
  doSample?: boolean | null;
  numBeams?: number | null;
  useCache?: boolean | null;
  /** `dynamic` (default) or `static`: see CacheImplementation. */
  cacheImplementation?: CacheImplementation | null;
  /**
   * A long prompt is fed to the cache this many tokens at a time, so that memory stays bounded (the
   * attention scores of one chunk, not of the whole prompt). Default 256; Hugging Face's default is
   * one pass (`None`). The result is the same either way.
   */
  prefillChunkSize?: number | null;
  temperature?: number | null;
  topK?: number | null;
  topP?: number | null;
  minP?: number | null;
  typicalP?: number | null;
  epsilonCutoff?: number | null;
  etaCutoff?: number | null;
  repetitionPenalty?: number | null;
  encoderRepetitionPenalty?: number | null;
  lengthPenalty?: number | null;
  noRepeatNgramSize?: number | null;
  encoderNoRepeatNgramSize?: number | null;
  badWordsIds?: TokenRows | null;
  /** Pairs of a token sequence and the bias added to its last token when the sequence would complete. */
  sequenceBias?: readonly (readonly [readonly number[], number])[] | null;
  forcedBosTokenId?: number | null;
  forcedEosTokenId?: number | readonly number[] | null;
  removeInvalidValues?: boolean | null;
  renormalizeLogits?: boolean | null;
  /** `[startIndex, decayFactor]`: after `startIndex` new tokens, EOS scores grow by `decayFactor` per token. */
  exponentialDecayLengthPenalty?: readonly [number, number] | null;
  suppressTokens?: readonly number[] | null;
  beginSuppressTokens?: readonly number[] | null;
  numReturnSequences?: number | null;
  padTokenId?: number | null;
  bosTokenId?: number | null;
  eosTokenId?: number | readonly number[] | null;
  decoderStartTokenId?: number | null;
}

/** A GenerationConfig with every layer merged, Hugging Face's defaults filled in and every field checked. */
export interface GenerationConfig {
  /** Absent unless some layer set it: `generate` then uses 20 new tokens, as Hugging Face does. */
  readonly maxLength: number | undefined;
  readonly maxNewTokens: number | undefined;
  readonly minLength: number;
  readonly minNewTokens: number | undefined;
  readonly earlyStopping: boolean | 'never';
  readonly maxTime: number | undefined;
  readonly stopStrings: readonly string[] | undefined;
  readonly doSample: boolean;
  readonly numBeams: number;
  readonly useCache: boolean;
  readonly cacheImplementation: CacheImplementation;
  readonly prefillChunkSize: number;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number | undefined;
  readonly typicalP: number;
  readonly epsilonCutoff: number;
  readonly etaCutoff: number;
  readonly repetitionPenalty: number;
  readonly encoderRepetitionPenalty: number;
  readonly lengthPenalty: number;
  readonly noRepeatNgramSize: number;
  readonly encoderNoRepeatNgramSize: number;
  readonly badWordsIds: TokenRows | undefined;
  readonly sequenceBias: readonly (readonly [readonly number[], number])[] | undefined;
  readonly forcedBosTokenId: number | undefined;
  readonly forcedEosTokenId: readonly number[] | undefined;
  readonly removeInvalidValues: boolean;
  readonly renormalizeLogits: boolean;
  readonly exponentialDecayLengthPenalty: readonly [number, number] | undefined;
  readonly suppressTokens: readonly number[] | undefined;
  readonly beginSuppressTokens: readonly number[] | undefined;
  readonly numReturnSequences: number;
  readonly padTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: readonly number[] | undefined;
  readonly decoderStartTokenId: number | undefined;
}
