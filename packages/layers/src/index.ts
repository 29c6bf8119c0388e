export { ACTIVATION_NAMES, type Activation, getActivation } from './activations.js';
export { Conv1D } from './conv1d.js';
export { crossEntropy, IGNORE_INDEX } from './cross-entropy.js';
export { Dropout } from './dropout.js';
export { Embedding, type EmbeddingOptions, embeddingParameterCount } from './embedding.js';
export { MissingMaxPositionError, PositionOutOfRangeError, UnknownActivationError } from './errors.js';
export { GatedMLP, type GatedMLPOptions } from './gated-mlp.js';
export { LayerNorm, type LayerNormOptions } from './layer-norm.js';
export {
  LearnedPositionalEmbedding,
  type LearnedPositionalEmbeddingOptions,
} from './learned-positional-embedding.js';
export { Linear, type LinearOptions } from './linear.js';
export { MLP, type MLPOptions } from './mlp.js';
export { packableWeights } from './packable-weights.js';
export { RMSNorm, type RMSNormOptions } from './rms-norm.js';
export {
  SinusoidalPositionalEmbedding,
  type SinusoidalPositionalEmbeddingOptions,
  type SinusoidLayout,
  sinusoidTable,
} from './sinusoidal-positional-embedding.js';
