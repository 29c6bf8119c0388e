import { positiveNumber } from '../config/field-readers.js';
import type { TokenRows } from '../config/generation-options.js';
import type { StoppingCriterion } from './stopping-criterion.js';

/**
 * Stops every row once more than `maxTime` seconds have passed since the criterion was made (the
 * step that crosses the limit still finishes). `clock` gives milliseconds: `performance.now` unless a
 * test supplies its own.
 */
export class MaxTimeCriteria implements StoppingCriterion {
  private readonly start: number;

  constructor(
    readonly maxTime: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    positiveNumber(maxTime, { option: 'maxTime', hf: 'max_time' });
    this.start = clock();
  }

  isDone(inputIds: TokenRows): boolean[] {
    const expired = (this.clock() - this.start) / 1000 > this.maxTime;
    return inputIds.map(() => expired);
  }
}
