// Checking tsformer's training against PyTorch's: the training.json / training.safetensors format of
// the reference folders, used by the parity tests and by `tsformer check-parity`.
export {
  checkTrainingReference,
  KNOWN_TRAINING_MISMATCHES,
  TRAINING_TOLERANCE,
  type TrainingCheck,
  type TrainingReferenceJson,
} from './training-reference.js';
