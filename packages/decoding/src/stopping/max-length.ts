import { integerAtLeast } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { StoppingCriterion } from './stopping-criterion.js';

/** Stops every row once rows are `maxLength` tokens long (prompt included for decoder-only models). */
export class MaxLengthCriteria implements StoppingCriterion {
  constructor(readonly maxLength: number) {
    integerAtLeast(1)(maxLength, { option: 'maxLength', hf: 'max_length' });
  }

  isDone(inputIds: TokenRows): boolean[] {
    return inputIds.map((row) => row.length >= this.maxLength);
  }
}
