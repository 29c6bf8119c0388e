import { GenerationInputError } from './errors.js';
import type { PositionLimit } from './language-model.js';

/**
 * The context-limit policy, applied before anything is generated: the sequence may grow to
 * `maxLength` tokens (the prompt, or the decoder start, plus the new tokens), each at its own
 * position. Past a `learned` table there is nothing to look up: an error naming both numbers.
 * `extrapolating` positions (RoPE) go on, so a one-line warning, as Hugging Face's, and generation
 * continues. A model without a limit passes.
 */
export function checkPositionLimit(
  limit: PositionLimit | undefined,
  promptLength: number,
  maxLength: number,
  warn: (message: string) => void,
): void {
  if (limit === undefined || maxLength <= limit.maxPositions) return;
  const need =
    `the prompt (${promptLength} tokens) plus up to ${maxLength - promptLength} new tokens needs ` +
    `${maxLength} positions, but the model has ${limit.maxPositions}`;
  if (limit.kind === 'learned') {
    throw new GenerationInputError(
      `${need} (a learned position table): shorten the prompt or lower maxNewTokens / maxLength`,
    );
  }
  warn(`${need}: its rotary positions extrapolate past them, and quality may degrade`);
}
