import { TrainingOptionError } from './errors.js';
import type { Optimizer } from './optimizer.js';

/** The schedules of Hugging Face's `get_scheduler` this package implements, by their HF names. */
export const SCHEDULER_NAMES = ['constant', 'constant_with_warmup', 'linear', 'cosine'] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export interface SchedulerOptions {
  /** Steps over which the rate climbs linearly from 0 (`num_warmup_steps`, default 0; `constant` ignores it, as HF). */
  warmupSteps?: number;
  /** Optimizer steps of the whole run (`num_training_steps`): `linear` and `cosine` decay to 0 there. */
  trainingSteps?: number;
}

/** Whether `name` is one of `SCHEDULER_NAMES`. */
export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

/**
 * The factor Hugging Face's schedule `name` multiplies the base learning rate by after `step`
 * scheduler steps (its `lr_lambda(step)`), in float64 as Python computes it:
 * - warmup (all but `constant`): `step / max(1, warmup)` while `step < warmup`;
 * - `linear`: then `max(0, (total − step) / max(1, total − warmup))`;
 * - `cosine` (half a cycle): then `max(0, ½(1 + cos(π · progress)))`, `progress = (step − warmup) / max(1, total − warmup)`;
 * - `constant`, `constant_with_warmup`: then 1.
 */
export function learningRateFactor(
  name: SchedulerName,
  step: number,
  options: SchedulerOptions = {},
): number {
  const { warmupSteps, trainingSteps } = checkedOptions(name, options);
  if (name === 'constant') return 1;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (name === 'constant_with_warmup') return 1;
  const decaySteps = Math.max(1, trainingSteps - warmupSteps);
  if (name === 'linear') return Math.max(0, (trainingSteps - step) / decaySteps);
  const progress = (step - warmupSteps) / decaySteps;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
}

/**
 * A learning-rate schedule driving an optimizer as PyTorch's `LambdaLR` does under Hugging Face's
 * `get_scheduler(name, optimizer, num_warmup_steps, num_training_steps)`: built at step 0 (the
 * optimizer's rate becomes `base · factor(0)`, so the first update of a warmup runs at rate 0, as
 * in the Trainer), then `step()` after each optimizer step. `base` is the optimizer's rate when the
 * scheduler is made.
 */
export class LearningRateScheduler {
  readonly baseLearningRate: number;
  private completed = 0;

  constructor(
    readonly name: SchedulerName,
    private readonly optimizer: Optimizer,
    private readonly options: SchedulerOptions = {},
  ) {
    if (!isSchedulerName(name)) {
      throw new TrainingOptionError(
        `unknown scheduler "${name}": expected one of ${SCHEDULER_NAMES.join(', ')}`,
      );
    }
    checkedOptions(name, options);
    this.baseLearningRate = optimizer.learningRate;
    this.apply();
  }

  /** Scheduler steps taken so far (`last_epoch`). */
  get stepCount(): number {
    return this.completed;
  }

  /** The rate the next optimizer step uses. */
  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /** Advances one step (after `optimizer.step`) and sets the optimizer's rate for the next one. */
  step(): void {
    this.completed += 1;
    this.apply();
  }

  /** Continues from `stepCount` steps (a checkpoint's), setting the optimizer's rate to match. */
  restore(stepCount: number): void {
    if (!Number.isSafeInteger(stepCount) || stepCount < 0) {
      throw new TrainingOptionError(`a scheduler step count must be an integer ≥ 0, got ${stepCount}`);
    }
    this.completed = stepCount;
    this.apply();
  }

  private apply(): void {
    this.optimizer.learningRate =
      this.baseLearningRate * learningRateFactor(this.name, this.completed, this.options);
  }
}

function checkedOptions(name: SchedulerName, options: SchedulerOptions): Required<SchedulerOptions> {
  const { warmupSteps = 0, trainingSteps } = options;
  if (!Number.isSafeInteger(warmupSteps) || warmupSteps < 0) {
    throw new TrainingOptionError(`warmupSteps must be an integer ≥ 0, got ${warmupSteps}`);
  }
  if (name === 'linear' || name === 'cosine') {
    if (trainingSteps === undefined) {
      throw new TrainingOptionError(`the ${name} scheduler needs trainingSteps (the run's optimizer steps)`);
    }
  }
  if (trainingSteps !== undefined && (!Number.isSafeInteger(trainingSteps) || trainingSteps < 1)) {
    throw new TrainingOptionError(`trainingSteps must be an integer ≥ 1, got ${trainingSteps}`);
  }
  return { warmupSteps, trainingSteps: trainingSteps ?? 0 };
}
