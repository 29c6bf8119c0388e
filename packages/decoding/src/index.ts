export type {
  BatchRequestOptions,
  BatchResult,
  FinishReason,
  GeneratedToken,
  TokenLogprob,
} from './batching/batch-request.js';
export {
  BatchScheduler,
  type BatchSchedulerOptions,
  type BatchSchedulerStats,
} from './batching/batch-scheduler.js';
export { parseGenerationConfig, resolveGenerationConfig } from './config/generation-config.js';
export type { GenerationConfig, GenerationOptions, TokenRows } from './config/generation-options.js';
export { checkTokenIdRange } from './config/token-id-range.js';
export {
  BatchQueueFullError,
  GenerationAbortedError,
  GenerationConfigError,
  GenerationInputError,
} from './errors.js';
export { type GenerateOptions, generate, generateAll } from './generate.js';
export type { GenerateInputs } from './generation-inputs.js';
export type {
  CacheImplementation,
  CausalLM,
  CausalLMForwardInputs,
  PositionLimit,
  Seq2SeqEncoding,
  Seq2SeqForwardInputs,
  Seq2SeqLM,
  TokenDecoder,
} from './language-model.js';
export { isSeq2SeqLM } from './language-model.js';
export { releaseGenerations } from './live-generations.js';
export { buildLogitsProcessors, type LogitsProcessorContext } from './processors/build-logits-processors.js';
export { EncoderNoRepeatNGramLogitsProcessor } from './processors/encoder-no-repeat-ngram.js';
export { EncoderRepetitionPenaltyLogitsProcessor } from './processors/encoder-repetition-penalty.js';
export { EpsilonLogitsWarper } from './processors/epsilon.js';
export { EtaLogitsWarper } from './processors/eta.js';
export { ExponentialDecayLengthPenalty } from './processors/exponential-decay-length-penalty.js';
export { ForcedBOSTokenLogitsProcessor } from './processors/forced-bos-token.js';
export { ForcedEOSTokenLogitsProcessor } from './processors/forced-eos-token.js';
export { InfNanRemoveLogitsProcessor } from './processors/inf-nan-remove.js';
export { LogitNormalization } from './processors/logit-normalization.js';
export { applyLogitsProcessors, type LogitsProcessor } from './processors/logits-processor.js';
export { MinLengthLogitsProcessor } from './processors/min-length.js';
export { MinNewTokensLengthLogitsProcessor } from './processors/min-new-tokens.js';
export { MinPLogitsWarper } from './processors/min-p.js';
export { NoBadWordsLogitsProcessor } from './processors/no-bad-words.js';
export { NoRepeatNGramLogitsProcessor } from './processors/no-repeat-ngram.js';
export { RepetitionPenaltyLogitsProcessor } from './processors/repetition-penalty.js';
export { isRowwiseProcessor, type RowwiseProcessor } from './processors/rowwise.js';
export { SequenceBiasLogitsProcessor } from './processors/sequence-bias.js';
export { SuppressTokensLogitsProcessor } from './processors/suppress-tokens.js';
export { SuppressTokensAtBeginLogitsProcessor } from './processors/suppress-tokens-at-begin.js';
export { TemperatureLogitsWarper } from './processors/temperature.js';
export { isTokenBanProcessor, type TokenBanProcessor } from './processors/token-ban.js';
export { TopKLogitsWarper } from './processors/top-k.js';
export { TopPLogitsWarper } from './processors/top-p.js';
export { TypicalLogitsWarper } from './processors/typical.js';
export type { GenerateOutput, GenerationStep } from './search/generation-step.js';
export { sampleTokens, sampleWithoutReplacement } from './search/sampling.js';
export { buildStoppingCriteria, type StoppingContext } from './stopping/build-stopping-criteria.js';
export { EosTokenCriteria } from './stopping/eos-token.js';
export { MaxLengthCriteria } from './stopping/max-length.js';
export { MaxTimeCriteria } from './stopping/max-time.js';
export { StopStringCriteria } from './stopping/stop-string.js';
export { anyCriterionDone, type StoppingCriterion } from './stopping/stopping-criterion.js';
export { TextStreamer } from './text-streamer.js';
