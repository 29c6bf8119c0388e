import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import type { SavableModel } from '@tsformer/models';
import { AdamW } from './adamw.js';
import { readTrainingCheckpoint, writeTrainingCheckpoint } from './checkpoint.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { MissingLossError, TrainingCheckpointError, TrainingOptionError } from './errors.js';
import { accumulatedLossAndGradients, countLossTokens } from './gradient-accumulation.js';
import { checkHyperparameter } from './optimizer.js';
import type { StatefulOptimizer } from './optimizer-state.js';
import { LearningRateScheduler, type SchedulerName } from './scheduler.js';
import { languageModelLoss, type TrainableLanguageModel } from './training-batch.js';
import { epochOrder, type TrainingDataset } from './training-dataset.js';

/** A `Trainer`'s settings: Hugging Face's `TrainingArguments` that apply here, with their defaults. */
export interface TrainerOptions {
  /** Base learning rate (default 5e-5). */
  learningRate?: number;
  /** AdamW's decoupled weight decay (default 0). */
  weightDecay?: number;
  /** Builds the optimizer over the trainable parameters (default AdamW with the two options above). */
  createOptimizer?: (parameters: Parameter[]) => StatefulOptimizer;
  /** Learning-rate schedule (default `linear`). */
  scheduler?: SchedulerName;
  /** Warmup steps of the schedule (default 0). */
  warmupSteps?: number;
  /** Global-norm clipping before each update (default 1; 0 turns it off, as HF's `max_grad_norm`). */
  maxGradNorm?: number;
  /** Batches per optimizer step (default 1). */
  gradientAccumulationSteps?: number;
  /** Passes over the data (default 3), unless `maxSteps` is set. */
  epochs?: number;
  /** Optimizer steps to run, over as many epochs as that takes (wins over `epochs`). */
  maxSteps?: number;
  /** Shuffles the batches per epoch from this seed (default 42). */
  seed?: number;
  /** Shuffle the batch order each epoch (default true). */
  shuffle?: boolean;
  /** Evaluated every `evalSteps` steps and at the end. */
  evalData?: TrainingDataset;
  evalSteps?: number;
  /** Writes `outputDir/checkpoint-<step>` every `saveSteps` steps (and needs `outputDir`). */
  saveSteps?: number;
  outputDir?: string;
  /** Called after each optimizer step and each evaluation (progress bars, logs). */
  onLog?: (entry: TrainingLogEntry) => void | Promise<void>;
}

/** One entry of the log history (HF's `log_history`). */
export type TrainingLogEntry =
  | {
      kind: 'train';
      step: number;
      /** Fractional epoch reached (`1.5` = half-way through the second). */
      epoch: number;
      loss: number;
      /** The rate this step used. */
      learningRate: number;
      /** Gradient norm before clipping. */
      gradNorm: number;
      /** Counted label tokens in the step. */
      tokens: number;
    }
  | { kind: 'eval'; step: number; epoch: number; loss: number; perplexity: number; tokens: number };

/** Where a run stands: what a checkpoint stores besides weights and optimizer state. */
export interface TrainerState {
  globalStep: number;
  /** The epoch in progress and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  seed: number;
  schedulerSteps: number;
  logHistory: TrainingLogEntry[];
}

/** Loss over a dataset: the mean over every counted token, and its exponential. */
export interface EvaluationResult {
  loss: number;
  perplexity: number;
  tokens: number;
}

/**
 * A training loop in the manner of Hugging Face's `Trainer`: over a dataset of batches, with an
 * optimizer (AdamW), a learning-rate schedule, clipping, gradient accumulation, evaluation (loss and
 * perplexity), checkpoints (`checkpoint-<step>`: the model folder, optimizer state, scheduler step,
 * data position and seed) and resume, which continues exactly as the uninterrupted run. Every step
 * frees what it made: `tf.memory()` stays flat across steps.
 */
export class Trainer {
  readonly optimizer: StatefulOptimizer;
  readonly scheduler: LearningRateScheduler;
  readonly state: TrainerState;
  private readonly model: TrainableLanguageModel;
  private readonly options: Required<
    Pick<TrainerOptions, 'maxGradNorm' | 'gradientAccumulationSteps' | 'shuffle' | 'seed'>
  > &
    TrainerOptions;

  constructor(
    private readonly saved: SavableModel,
    private readonly trainData: TrainingDataset,
    options: TrainerOptions = {},
  ) {
    this.options = {
      maxGradNorm: 1,
      gradientAccumulationSteps: 1,
      shuffle: true,
      seed: 42,
      ...options,
    };
    const { gradientAccumulationSteps, saveSteps, outputDir } = this.options;
    if (!Number.isSafeInteger(gradientAccumulationSteps) || gradientAccumulationSteps < 1) {
      throw new TrainingOptionError(
        `gradientAccumulationSteps must be an integer ≥ 1, got ${gradientAccumulationSteps}`,
      );
    }
    if (saveSteps !== undefined && outputDir === undefined) {
      throw new TrainingOptionError('saveSteps needs an outputDir to write checkpoints into');
    }
    checkHyperparameter('maxGradNorm', this.options.maxGradNorm);
    this.model = saved.model as TrainableLanguageModel;
    const parameters = saved.model.makeTrainable().map(([, parameter]) => parameter);
    this.optimizer =
      options.createOptimizer?.(parameters) ??
      new AdamW(parameters, {
        learningRate: options.learningRate ?? 5e-5,
        weightDecay: options.weightDecay ?? 0,
      });
    this.scheduler = new LearningRateScheduler(options.scheduler ?? 'linear', this.optimizer, {
      warmupSteps: options.warmupSteps ?? 0,
      trainingSteps: this.totalSteps,
    });
    this.state = {
      globalStep: 0,
      epoch: 0,
      batchInEpoch: 0,
      seed: this.options.seed,
      schedulerSteps: 0,
      logHistory: [],
    };
  }

  /** Optimizer steps per epoch: one per `gradientAccumulationSteps` batches, a last short one included. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.trainData.length / this.options.gradientAccumulationSteps);
  }

  /** Optimizer steps of the whole run: `maxSteps`, or `epochs` × `stepsPerEpoch`. */
  get totalSteps(): number {
    const { maxSteps, epochs = 3 } = this.options;
    if (maxSteps !== undefined) {
      if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) {
        throw new TrainingOptionError(`maxSteps must be an integer ≥ 1, got ${maxSteps}`);
      }
      return maxSteps;
    }
    if (!Number.isSafeInteger(epochs) || epochs < 1) {
      throw new TrainingOptionError(`epochs must be an integer ≥ 1, got ${epochs}`);
    }
    return epochs * this.stepsPerEpoch;
  }

  /** Trains until `totalSteps` (from where a resumed checkpoint left off); returns the state. */
  async train(): Promise<TrainerState> {
    const { gradientAccumulationSteps, evalSteps, saveSteps, outputDir, seed, shuffle } = this.options;
    const { state } = this;
    const total = this.totalSteps;
    const parameters = this.optimizer.parameters;
    this.model.train();
    while (state.globalStep < total) {
      const order = epochOrder(this.trainData.length, seed, state.epoch, shuffle);
      while (state.batchInEpoch < order.length && state.globalStep < total) {
        const window = order.slice(state.batchInEpoch, state.batchInEpoch + gradientAccumulationSteps);
        const batches = window.map((index) => this.trainData.batch(index));
        let result: Awaited<ReturnType<typeof accumulatedLossAndGradients>>;
        try {
          result = await accumulatedLossAndGradients(this.model, batches, parameters);
        } finally {
          tf.dispose(batches.flatMap((batch) => Object.values(batch)));
        }
        const learningRate = this.optimizer.learningRate;
        // Without clipping, the norm is still measured (for the log) and the gradients scaled by 1.
        const maxNorm = this.options.maxGradNorm > 0 ? this.options.maxGradNorm : Number.MAX_VALUE;
        const { gradients: clipped, totalNorm } = clipGradNorm(result.gradients, maxNorm);
        this.optimizer.step(clipped);
        this.scheduler.step();
        const [loss, gradNorm] = await Promise.all([result.loss.data(), totalNorm.data()]);
        tf.dispose([result.loss, totalNorm, ...result.gradients.values(), ...clipped.values()]);

        state.globalStep += 1;
        state.batchInEpoch += window.length;
        state.schedulerSteps = this.scheduler.stepCount;
        await this.log({
          kind: 'train',
          step: state.globalStep,
          epoch: state.epoch + state.batchInEpoch / order.length,
          loss: loss[0]!,
          learningRate,
          gradNorm: gradNorm[0]!,
          tokens: result.tokens,
        });
        if (this.options.evalData && evalSteps && state.globalStep % evalSteps === 0)
          await this.evaluateAndLog();
        if (saveSteps && state.globalStep % saveSteps === 0) {
          await this.saveCheckpoint(`${outputDir}/checkpoint-${state.globalStep}`);
        }
      }
      if (state.batchInEpoch >= order.length) {
        state.epoch += 1;
        state.batchInEpoch = 0;
      }
    }
    if (this.options.evalData && !(evalSteps && state.globalStep % evalSteps === 0))
      await this.evaluateAndLog();
    return state;
  }

  /**
   * The loss over `data` (default the `evalData` option) in evaluation mode, without gradients: each
   * batch's mean weighted by its counted tokens, so the result is the mean over all of them.
   */
  async evaluate(data: TrainingDataset | undefined = this.options.evalData): Promise<EvaluationResult> {
    if (!data) throw new TrainingOptionError('no evaluation data: pass evalData');
    const wasTraining = this.model.training;
    this.model.eval();
    let weighted = 0;
    let tokens = 0;
    try {
      for (let index = 0; index < data.length; index++) {
        const batch = data.batch(index);
        try {
          const count = await countLossTokens(this.model, batch);
          if (count === 0) continue;
          const loss = languageModelLoss(this.model, batch);
          weighted += (await loss.data())[0]! * count;
          loss.dispose();
          tokens += count;
        } finally {
          tf.dispose(Object.values(batch));
        }
      }
    } finally {
      this.model.train(wasTraining);
    }
    if (tokens === 0)
      throw new MissingLossError('the evaluation data has no label to score (every label is -100)');
    const loss = weighted / tokens;
    return { loss, perplexity: Math.exp(loss), tokens };
  }

  /** Writes a checkpoint folder: the model (as `savePretrained`), the optimizer state and the trainer state. */
  async saveCheckpoint(folder: string): Promise<void> {
    await writeTrainingCheckpoint(folder, this.saved, this.optimizer, this.state);
  }

  /**
   * Continues from a checkpoint folder written by `saveCheckpoint` (of a run with the same data and
   * options): weights, optimizer state, scheduler step, data position and seed.
   */
  async resumeFrom(folder: string): Promise<void> {
    const restored = await readTrainingCheckpoint(folder, this.saved, this.optimizer);
    if (restored.seed !== this.options.seed) {
      throw new TrainingCheckpointError(
        `${folder} was trained with seed ${restored.seed}, this run has ${this.options.seed}`,
      );
    }
    Object.assign(this.state, restored);
    this.scheduler.restore(restored.schedulerSteps);
  }

  private async evaluateAndLog(): Promise<void> {
    const { loss, perplexity, tokens } = await this.evaluate();
    const epoch = this.state.epoch + this.state.batchInEpoch / this.trainData.length;
    await this.log({ kind: 'eval', step: this.state.globalStep, epoch, loss, perplexity, tokens });
  }

  private async log(entry: TrainingLogEntry): Promise<void> {
    this.state.logHistory.push(entry);
    await this.options.onLog?.(entry);
  }
}
