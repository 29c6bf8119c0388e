import type { LogitsProcessor } from './logits-processor.js';

/**
 * A processor whose whole effect is to set a few token ids of a row to -inf, chosen from the row's
 * tokens (min length, min new tokens, suppressed tokens). Its `process` fills -inf at the ids
 * `bannedTokens` names (`fillTokens`), so a caller holding rows of different lengths and processors (the batching
 * scheduler) can gather every row's ids and ban them over the whole batch in one scatter.
 */
export interface TokenBanProcessor extends LogitsProcessor {
  /** The ids this processor sets to -inf in a row holding `tokens` (none: an empty list). */
  bannedTokens(tokens: readonly number[]): readonly number[];
}

export function isTokenBanProcessor(processor: LogitsProcessor): processor is TokenBanProcessor {
  return typeof (processor as Partial<TokenBanProcessor>).bannedTokens === 'function';
}
