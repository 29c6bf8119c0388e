// Checking tsformer's training against PyTorch's: the training.json / training.safetensors format of
// the reference folders and their float64 redo, used by the parity tests and by `tsformer check-parity`.
export {
  compareElements,
  type ElementComparison,
  type Float64Values,
  type Tolerance,
} from './compare-elements.js';
export type { Float64TrainingJson, Float64TrainingReference } from './float64-reference.js';
export { parseFloat64TrainingJson, parseTrainingReference } from './reference-json.js';
export {
  checkTrainingReference,
  KNOWN_TRAINING_MISMATCHES,
  TRAINING_TOLERANCE,
  type TrainingCheck,
  type TrainingReferenceJson,
} from './training-reference.js';
