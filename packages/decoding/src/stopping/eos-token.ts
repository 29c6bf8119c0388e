import { tokenIdOrIds } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { StoppingCriterion } from './stopping-criterion.js';

/** Stops a row whose last token is one of the end-of-sequence ids. */
export class EosTokenCriteria implements StoppingCriterion {
  readonly eosTokenIds: readonly number[];

  constructor(eosTokenId: number | readonly number[]) {
    this.eosTokenIds = tokenIdOrIds(eosTokenId, { option: 'eosTokenId', hf: 'eos_token_id' });
  }

  isDone(inputIds: TokenRows): boolean[] {
    return inputIds.map((row) => row.length > 0 && this.eosTokenIds.includes(row[row.length - 1]!));
  }
}
