import type { GenerationConfig, TokenRows } from '../config/generation-options.js';
import { GenerationConfigError } from '../errors.js';
import { mergeWithCustom } from '../merge-custom.js';
import { EncoderNoRepeatNGramLogitsProcessor } from './encoder-no-repeat-ngram.js';
import { EncoderRepetitionPenaltyLogitsProcessor } from './encoder-repetition-penalty.js';
import { EpsilonLogitsWarper } from './epsilon.js';
import { EtaLogitsWarper } from './eta.js';
import { ExponentialDecayLengthPenalty } from './exponential-decay-length-penalty.js';
import { ForcedBOSTokenLogitsProcessor } from './forced-bos-token.js';
import { ForcedEOSTokenLogitsProcessor } from './forced-eos-token.js';
import { InfNanRemoveLogitsProcessor } from './inf-nan-remove.js';
import { LogitNormalization } from './logit-normalization.js';
import type { LogitsProcessor } from './logits-processor.js';
import { MinLengthLogitsProcessor } from './min-length.js';
import { MinNewTokensLengthLogitsProcessor } from './min-new-tokens.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoBadWordsLogitsProcessor } from './no-bad-words.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { SequenceBiasLogitsProcessor } from './sequence-bias.js';
import { SuppressTokensLogitsProcessor } from './suppress-tokens.js';
import { SuppressTokensAtBeginLogitsProcessor } from './suppress-tokens-at-begin.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';
import { TypicalLogitsWarper } from './typical.js';

/** What the processor list needs besides the config, known once the inputs are read. */
export interface LogitsProcessorContext {
  /** Row length when generation starts: the prompt (decoder-only) or the decoder start (encoder-decoder). */
  readonly inputIdsSequenceLength: number;
  /** The encoder's input rows, one per prompt: the prompt itself for decoder-only models. */
  readonly encoderInputIds: TokenRows;
  /** The effective maximum length (`maxNewTokens` already applied). */
  readonly maxLength: number;
  /** The effective minimum length (`minNewTokens` already applied). */
  readonly minLength: number;
}

/**
 * The processors `generate` applies, in Hugging Face's `_get_logits_processor` order: the processors,
 * then the custom ones (replacing a built-in one of the same class in place), then, only when
 * sampling (beam sampling too), the warpers, and log-softmax renormalisation last.
 */
export function buildLogitsProcessors(
  config: GenerationConfig,
  context: LogitsProcessorContext,
  custom: readonly LogitsProcessor[] = [],
): LogitsProcessor[] {
  const eos = config.eosTokenId;
  const processors: LogitsProcessor[] = [];
  if (config.sequenceBias !== undefined)
    processors.push(new SequenceBiasLogitsProcessor(config.sequenceBias));
  if (config.encoderRepetitionPenalty !== 1) {
    processors.push(
      new EncoderRepetitionPenaltyLogitsProcessor(config.encoderRepetitionPenalty, context.encoderInputIds),
    );
  }
  if (config.repetitionPenalty !== 1)
    processors.push(new RepetitionPenaltyLogitsProcessor(config.repetitionPenalty));
  if (config.noRepeatNgramSize > 0)
    processors.push(new NoRepeatNGramLogitsProcessor(config.noRepeatNgramSize));
  if (config.encoderNoRepeatNgramSize > 0) {
    processors.push(
      new EncoderNoRepeatNGramLogitsProcessor(config.encoderNoRepeatNgramSize, context.encoderInputIds),
    );
  }
  if (config.badWordsIds !== undefined)
    processors.push(new NoBadWordsLogitsProcessor(config.badWordsIds, eos));
  if (eos !== undefined && context.minLength > 0) {
    processors.push(new MinLengthLogitsProcessor(context.minLength, eos));
  }
  if (eos !== undefined && config.minNewTokens !== undefined && config.minNewTokens > 0) {
    processors.push(
      new MinNewTokensLengthLogitsProcessor(context.inputIdsSequenceLength, config.minNewTokens, eos),
    );
  }
  if (config.forcedBosTokenId !== undefined) {
    processors.push(new ForcedBOSTokenLogitsProcessor(config.forcedBosTokenId));
  }
  if (config.forcedEosTokenId !== undefined) {
    processors.push(new ForcedEOSTokenLogitsProcessor(context.maxLength, config.forcedEosTokenId));
  }
  if (config.removeInvalidValues) processors.push(new InfNanRemoveLogitsProcessor());
  if (config.exponentialDecayLengthPenalty !== undefined) {
    if (eos === undefined) {
      throw new GenerationConfigError(
        'exponentialDecayLengthPenalty',
        '`exponentialDecayLengthPenalty` (exponential_decay_length_penalty) needs `eosTokenId`',
      );
    }
    processors.push(
      new ExponentialDecayLengthPenalty(
        config.exponentialDecayLengthPenalty,
        eos,
        context.inputIdsSequenceLength,
      ),
    );
  }
  if (config.suppressTokens !== undefined)
    processors.push(new SuppressTokensLogitsProcessor(config.suppressTokens));
  if (config.beginSuppressTokens !== undefined) {
    const length = context.inputIdsSequenceLength;
    const beginIndex = length > 1 || config.forcedBosTokenId === undefined ? length : length + 1;
    processors.push(new SuppressTokensAtBeginLogitsProcessor(config.beginSuppressTokens, beginIndex));
  }
  const merged = mergeWithCustom(processors, custom);
  if (config.doSample) merged.push(...buildWarpers(config));
  if (config.renormalizeLogits) merged.push(new LogitNormalization());
  return merged;
}

/** The sampling warpers; beam sampling keeps one token more than there are EOS ids, so a beam can go on. */
function buildWarpers(config: GenerationConfig): LogitsProcessor[] {
  const minTokensToKeep = config.numBeams > 1 ? (config.eosTokenId?.length ?? 1) + 1 : 1;
  const warpers: LogitsProcessor[] = [];
  if (config.temperature !== 1) warpers.push(new TemperatureLogitsWarper(config.temperature));
  if (config.topK !== 0) warpers.push(new TopKLogitsWarper(config.topK, minTokensToKeep));
  if (config.topP < 1) warpers.push(new TopPLogitsWarper(config.topP, minTokensToKeep));
  if (config.minP !== undefined) warpers.push(new MinPLogitsWarper(config.minP, minTokensToKeep));
  if (config.typicalP < 1) warpers.push(new TypicalLogitsWarper(config.typicalP, minTokensToKeep));
  if (config.epsilonCutoff > 0) warpers.push(new EpsilonLogitsWarper(config.epsilonCutoff, minTokensToKeep));
  if (config.etaCutoff > 0) warpers.push(new EtaLogitsWarper(config.etaCutoff, minTokensToKeep));
  return warpers;
}
