import type { TokenRows } from '../config/generation-options.js';

/**
 * Decides, after each step, which rows are done, as Hugging Face's StoppingCriteria. `inputIds`
 * holds every row's tokens so far, the new one included (for beam search: every candidate).
 */
export interface StoppingCriterion {
  isDone(inputIds: TokenRows): boolean[];
}

/** Rows done by any of the criteria, as Hugging Face's StoppingCriteriaList. */
export function anyCriterionDone(criteria: readonly StoppingCriterion[], inputIds: TokenRows): boolean[] {
  const done = inputIds.map(() => false);
  for (const criterion of criteria) {
    criterion.isDone(inputIds).forEach((isDone, row) => {
      if (isDone) done[row] = true;
    });
  }
  return done;
}
