import { SeededRandom } from '@tsformer/core-tensor';
import { TrainingOptionError } from './errors.js';
import type { TrainingBatch } from './training-batch.js';

/**
 * Batches a `Trainer` draws by index: `batch(i)` makes new tensors each call (the trainer disposes
 * them after use), so a dataset holds plain ids, not tensors, and any order can be replayed.
 */
export interface TrainingDataset {
  /** How many batches one epoch has. */
  readonly length: number;
  batch(index: number): TrainingBatch;
}

/**
 * The order of the batches in epoch `epoch`: a Fisher–Yates shuffle drawn from `SeededRandom(seed)`
 * advanced through the earlier epochs' shuffles, so every epoch's order follows from the seed alone
 * (a resumed run replays it exactly); `0, 1, …` without shuffling.
 */
export function epochOrder(length: number, seed: number, epoch: number, shuffle = true): number[] {
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new TrainingOptionError(`a training dataset needs at least one batch, got ${length}`);
  }
  const order = Array.from({ length }, (_, i) => i);
  if (!shuffle) return order;
  const random = new SeededRandom(seed);
  for (let round = 0; round <= epoch; round++) {
    order.sort((a, b) => a - b);
    for (let i = length - 1; i > 0; i--) {
      const j = random.nextUint32() % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  return order;
}
