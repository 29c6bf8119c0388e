export { enableGradients } from '@tsformer/core-tensor';
export { crossEntropy, IGNORE_INDEX } from '@tsformer/layers';
export { causalLMLoss, sequenceLoss, shiftTokensRight } from '@tsformer/models';
export { AdamW, type AdamWOptions } from './adamw.js';
export { type ClippedGradients, clipGradNorm } from './clip-grad-norm.js';
export {
  GradientsNotEnabledError,
  HyperparameterError,
  MissingLossError,
  NoTrainableParametersError,
  TrainingReferenceError,
} from './errors.js';
export { type LossAndGradients, lossAndGradients } from './gradients.js';
export type { Optimizer } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { type TrainStepOptions, type TrainStepResult, trainStep } from './train-step.js';
export { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from './training-batch.js';
