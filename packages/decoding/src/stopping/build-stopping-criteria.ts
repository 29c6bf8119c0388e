import type { GenerationConfig } from '../config/generation-options.js';
import { GenerationConfigError } from '../errors.js';
import type { TokenDecoder } from '../language-model.js';
import { mergeWithCustom } from '../merge-custom.js';
import { EosTokenCriteria } from './eos-token.js';
import { MaxLengthCriteria } from './max-length.js';
import { MaxTimeCriteria } from './max-time.js';
import { StopStringCriteria } from './stop-string.js';
import type { StoppingCriterion } from './stopping-criterion.js';

export interface StoppingContext {
  /** The effective maximum length (`maxNewTokens` already applied). */
  readonly maxLength: number;
  /** Row length when generation starts; stop strings look at what follows. */
  readonly promptLength: number;
  readonly tokenDecoder: TokenDecoder | undefined;
  /** Milliseconds, for `maxTime`. */
  readonly clock: (() => number) | undefined;
}

/**
 * The criteria `generate` checks, in Hugging Face's `_get_stopping_criteria` order (max length, max
 * time, stop strings, EOS), with custom ones merged as for logits processors.
 */
export function buildStoppingCriteria(
  config: GenerationConfig,
  context: StoppingContext,
  custom: readonly StoppingCriterion[] = [],
): StoppingCriterion[] {
  const criteria: StoppingCriterion[] = [new MaxLengthCriteria(context.maxLength)];
  if (config.maxTime !== undefined) criteria.push(new MaxTimeCriteria(config.maxTime, context.clock));
  if (config.stopStrings !== undefined) {
    if (context.tokenDecoder === undefined) {
      throw new GenerationConfigError(
        'stopStrings',
        '`stopStrings` (stop_strings) needs a `tokenDecoder` to decode the generated text',
      );
    }
    criteria.push(new StopStringCriteria(config.stopStrings, context.tokenDecoder, context.promptLength));
  }
  if (config.eosTokenId !== undefined) criteria.push(new EosTokenCriteria(config.eosTokenId));
  return mergeWithCustom(criteria, custom);
}
