import { integerAtLeast, stopStrings } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { TokenDecoder } from '../language-model.js';
import type { StoppingCriterion } from './stopping-criterion.js';

/**
 * Stops a row once the decoded text of its continuation (the tokens after the first
 * `promptLength`, special tokens included) ends with one of `stopStrings`.
 */
export class StopStringCriteria implements StoppingCriterion {
  readonly stopStrings: readonly string[];

  constructor(
    strings: string | readonly string[],
    private readonly decoder: TokenDecoder,
    readonly promptLength: number,
  ) {
    this.stopStrings = stopStrings(strings, { option: 'stopStrings', hf: 'stop_strings' });
    integerAtLeast(0)(promptLength, { option: 'promptLength', hf: 'prompt_length' });
  }

  isDone(inputIds: TokenRows): boolean[] {
    return inputIds.map((row) => {
      const text = this.decoder.decode(row.slice(this.promptLength), { skipSpecialTokens: false });
      return this.stopStrings.some((stop) => text.endsWith(stop));
    });
  }
}
