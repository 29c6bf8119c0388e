export { enableGradients } from '@tsformer/core-tensor';
export { crossEntropy, IGNORE_INDEX } from '@tsformer/layers';
export { causalLMLoss, sequenceLoss, shiftTokensRight } from '@tsformer/models';
export { AdamW, type AdamWOptions } from './adamw.js';
export {
  OPTIMIZER_FILE_NAME,
  readTrainingCheckpoint,
  TRAINER_STATE_FILE_NAME,
  writeTrainingCheckpoint,
} from './checkpoint.js';
export { type ClippedGradients, clipGradNorm } from './clip-grad-norm.js';
export {
  GradientsNotEnabledError,
  HyperparameterError,
  MissingLossError,
  NoTrainableParametersError,
  TrainingCheckpointError,
  TrainingOptionError,
  TrainingReferenceError,
} from './errors.js';
export {
  accumulatedLossAndGradients,
  countLossTokens,
} from './gradient-accumulation.js';
export { type LossAndGradients, lossAndGradients } from './gradients.js';
export type { Optimizer } from './optimizer.js';
export type { OptimizerState, StatefulOptimizer } from './optimizer-state.js';
export {
  isSchedulerName,
  LearningRateScheduler,
  learningRateFactor,
  SCHEDULER_NAMES,
  type SchedulerName,
  type SchedulerOptions,
} from './scheduler.js';
export { SGD, type SGDOptions } from './sgd.js';
export { type TrainStepOptions, type TrainStepResult, trainStep } from './train-step.js';
export {
  type EvaluationResult,
  Trainer,
  type TrainerOptions,
  type TrainerState,
  type TrainingLogEntry,
} from './trainer.js';
export { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from './training-batch.js';
export { epochOrder, type TrainingDataset } from './training-dataset.js';
export {
  type LayerActivationBytes,
  type MemoryOptimizer,
  type TrainingMemory,
  type TrainingMemoryOptions,
  trainingMemory,
} from './training-memory.js';
