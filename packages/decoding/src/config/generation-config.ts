import { describeFieldValue } from '@tsformer/core-tensor';
import { GenerationConfigError } from '../errors.js';
import {
  boolean,
  cacheImplementation,
  earlyStopping,
  exponentialDecay,
  type FieldName,
  type FieldReader,
  fieldError,
  finiteNumber,
  integer,
  integerAtLeast,
  numberInRange,
  positiveNumber,
  sequenceBias,
  stopStrings,
  tokenId,
  tokenIdList,
  tokenIdLists,
  tokenIdOrIds,
} from './field-readers.js';
import type { GenerationConfig, GenerationOptions } from './generation-options.js';

/** Prompt tokens fed per prefill chunk unless a layer says otherwise (Hugging Face: one pass). */
export const DEFAULT_PREFILL_CHUNK_SIZE = 256;

type FieldTable = {
  readonly [K in keyof GenerationOptions]-?: readonly [hf: string, read: FieldReader<unknown>];
};

/** Every supported field: its Hugging Face name and how its value is checked and normalised. */
const FIELDS: FieldTable = {
  maxLength: ['max_length', integerAtLeast(1)],
  maxNewTokens: ['max_new_tokens', integerAtLeast(1)],
  minLength: ['min_length', integerAtLeast(0)],
  minNewTokens: ['min_new_tokens', integerAtLeast(0)],
  earlyStopping: ['early_stopping', earlyStopping],
  maxTime: ['max_time', positiveNumber],
  stopStrings: ['stop_strings', stopStrings],
  doSample: ['do_sample', boolean],
  numBeams: ['num_beams', integerAtLeast(1)],
  useCache: ['use_cache', boolean],
  cacheImplementation: ['cache_implementation', cacheImplementation],
  prefillChunkSize: ['prefill_chunk_size', integerAtLeast(1)],
  temperature: ['temperature', finiteNumber],
  topK: ['top_k', integerAtLeast(0)],
  topP: ['top_p', numberInRange(0, 1, { min: true })],
  minP: ['min_p', numberInRange(0, 1)],
  typicalP: ['typical_p', numberInRange(0, 1, { min: true })],
  epsilonCutoff: ['epsilon_cutoff', numberInRange(0, 1, { max: true })],
  etaCutoff: ['eta_cutoff', numberInRange(0, 1, { max: true })],
  repetitionPenalty: ['repetition_penalty', positiveNumber],
  encoderRepetitionPenalty: ['encoder_repetition_penalty', positiveNumber],
  lengthPenalty: ['length_penalty', finiteNumber],
  noRepeatNgramSize: ['no_repeat_ngram_size', integerAtLeast(0)],
  encoderNoRepeatNgramSize: ['encoder_no_repeat_ngram_size', integerAtLeast(0)],
  badWordsIds: ['bad_words_ids', tokenIdLists],
  sequenceBias: ['sequence_bias', sequenceBias],
  forcedBosTokenId: ['forced_bos_token_id', tokenId],
  forcedEosTokenId: ['forced_eos_token_id', tokenIdOrIds],
  removeInvalidValues: ['remove_invalid_values', boolean],
  renormalizeLogits: ['renormalize_logits', boolean],
  exponentialDecayLengthPenalty: ['exponential_decay_length_penalty', exponentialDecay],
  suppressTokens: ['suppress_tokens', tokenIdList],
  beginSuppressTokens: ['begin_suppress_tokens', tokenIdList],
  numReturnSequences: ['num_return_sequences', integerAtLeast(1)],
  padTokenId: ['pad_token_id', integer],
  bosTokenId: ['bos_token_id', tokenId],
  eosTokenId: ['eos_token_id', tokenIdOrIds],
  decoderStartTokenId: ['decoder_start_token_id', tokenId],
};

/**
 * Hugging Face generation features tsformer does not implement, each with the test for a value that
 * would switch it on. A generation_config.json that switches one on is refused rather than half-honoured.
 */
const UNSUPPORTED: Readonly<Record<string, (value: unknown) => boolean>> = {
  guidance_scale: (value) => value !== 1,
  num_beam_groups: (value) => typeof value === 'number' && value > 1,
  penalty_alpha: (value) => typeof value === 'number' && value > 0,
  dola_layers: () => true,
  constraints: () => true,
  force_words_ids: () => true,
  top_h: () => true,
  watermarking_config: () => true,
  prompt_lookup_num_tokens: () => true,
  assistant_early_exit: () => true,
  token_healing: (value) => value === true,
  low_memory: (value) => value === true,
};

const OPTION_NAMES = Object.keys(FIELDS) as (keyof GenerationOptions)[];

/** A generation option by both of its names: camelCase and Hugging Face's snake_case. */
export function fieldName(option: keyof GenerationOptions): FieldName {
  return { option, hf: FIELDS[option][0] };
}

/**
 * Reads a generation_config.json (Hugging Face's snake_case keys) into camelCase options. Keys that
 * are not generation parameters (`transformers_version`, `_from_model_config`, output flags, ...) are
 * ignored; `null` stays `null` (it unsets the field, as `None` does). Throws GenerationConfigError on
 * a bad value or on a feature tsformer does not implement; the error names the field, and the caller
 * that read the file names the file (`withFile(path, () => parseGenerationConfig(json))`).
 */
export function parseGenerationConfig(raw: unknown): GenerationOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GenerationConfigError(
      'generationConfig',
      `a generation config must be a JSON object, got ${describeFieldValue(raw)}`,
    );
  }
  const record = raw as Record<string, unknown>;
  for (const [key, isActive] of Object.entries(UNSUPPORTED)) {
    const value = record[key];
    if (value !== undefined && value !== null && isActive(value)) {
      throw new GenerationConfigError(key, `\`${key}\` = ${describeFieldValue(value)} is not supported`);
    }
  }
  const options: Record<string, unknown> = {};
  for (const option of OPTION_NAMES) {
    const [hf, read] = FIELDS[option];
    if (!(hf in record)) continue;
    const value = record[hf];
    options[option] = value === null ? null : read(value, fieldName(option));
  }
  return options as GenerationOptions;
}

/** Checks one layer of camelCase options: every key known, every value valid; returns it normalised. */
function readLayer(layer: GenerationOptions): Map<keyof GenerationOptions, unknown> {
  const values = new Map<keyof GenerationOptions, unknown>();
  for (const [key, value] of Object.entries(layer)) {
    if (!(key in FIELDS)) {
      throw new GenerationConfigError(key, `\`${key}\` is not a generation option`);
    }
    const option = key as keyof GenerationOptions;
    if (value === undefined) continue;
    values.set(option, value === null ? undefined : FIELDS[option][1](value, fieldName(option)));
  }
  return values;
}

/**
 * Merges layers of options, later layers winning (model defaults, then generation_config.json, then
 * the call), fills in Hugging Face's defaults and checks the combination. Never mutates its inputs.
 */
export function resolveGenerationConfig(
  ...layers: readonly (GenerationOptions | undefined)[]
): GenerationConfig {
  const merged = new Map<keyof GenerationOptions, unknown>();
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [option, value] of readLayer(layer)) merged.set(option, value);
  }
  const get = <T>(option: keyof GenerationOptions, fallback: T): T =>
    (merged.get(option) as T | undefined) ?? fallback;
  const config: GenerationConfig = {
    maxLength: get('maxLength', undefined),
    maxNewTokens: get('maxNewTokens', undefined),
    minLength: get('minLength', 0),
    minNewTokens: get('minNewTokens', undefined),
    earlyStopping: get('earlyStopping', false),
    maxTime: get('maxTime', undefined),
    stopStrings: get('stopStrings', undefined),
    doSample: get('doSample', false),
    numBeams: get('numBeams', 1),
    useCache: get('useCache', true),
    cacheImplementation: get('cacheImplementation', 'dynamic'),
    prefillChunkSize: get('prefillChunkSize', DEFAULT_PREFILL_CHUNK_SIZE),
    temperature: get('temperature', 1),
    topK: get('topK', 50),
    topP: get('topP', 1),
    minP: get('minP', undefined),
    typicalP: get('typicalP', 1),
    epsilonCutoff: get('epsilonCutoff', 0),
    etaCutoff: get('etaCutoff', 0),
    repetitionPenalty: get('repetitionPenalty', 1),
    encoderRepetitionPenalty: get('encoderRepetitionPenalty', 1),
    lengthPenalty: get('lengthPenalty', 1),
    noRepeatNgramSize: get('noRepeatNgramSize', 0),
    encoderNoRepeatNgramSize: get('encoderNoRepeatNgramSize', 0),
    badWordsIds: get('badWordsIds', undefined),
    sequenceBias: get('sequenceBias', undefined),
    forcedBosTokenId: get('forcedBosTokenId', undefined),
    forcedEosTokenId: get('forcedEosTokenId', undefined),
    removeInvalidValues: get('removeInvalidValues', false),
    renormalizeLogits: get('renormalizeLogits', false),
    exponentialDecayLengthPenalty: get('exponentialDecayLengthPenalty', undefined),
    suppressTokens: get('suppressTokens', undefined),
    beginSuppressTokens: get('beginSuppressTokens', undefined),
    numReturnSequences: get('numReturnSequences', 1),
    padTokenId: get('padTokenId', undefined),
    bosTokenId: get('bosTokenId', undefined),
    eosTokenId: get('eosTokenId', undefined),
    decoderStartTokenId: get('decoderStartTokenId', undefined),
  };
  checkCombination(config);
  return Object.freeze(config);
}

function checkCombination(config: GenerationConfig): void {
  if (config.doSample && !(config.temperature > 0)) {
    throw fieldError(fieldName('temperature'), 'a number > 0 when sampling (doSample)', config.temperature);
  }
  if (config.numBeams === 1 && !config.doSample && config.numReturnSequences > 1) {
    throw fieldError(
      fieldName('numReturnSequences'),
      '1 for greedy search (set doSample or numBeams > 1 to return several sequences)',
      config.numReturnSequences,
    );
  }
  if (config.numBeams > 1 && config.numReturnSequences > config.numBeams) {
    throw fieldError(
      fieldName('numReturnSequences'),
      `at most numBeams (${config.numBeams}) for beam search`,
      config.numReturnSequences,
    );
  }
}
