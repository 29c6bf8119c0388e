import type { ModelDescription, StackDescription } from '@tsformer/models';
import { activationCounts, type LayerActivationCounts } from './activation-counts.js';
import { TrainingOptionError } from './errors.js';

const FLOAT32_BYTES = 4;

/** The counts are averages (a mask is a quarter of the scores): estimates are rounded to whole bytes. */
const wholeBytes = Math.round;

/** The optimizer whose state is counted: AdamW keeps two tensors per parameter, SGD one with momentum. */
export type MemoryOptimizer = 'adamw' | 'sgd' | 'sgd-momentum';

export interface TrainingMemoryOptions {
  batch: number;
  /** Tokens per sequence (an encoder-decoder's source and target both). */
  seq: number;
  /** Default `adamw`. */
  optimizer?: MemoryOptimizer;
}

/** One layer's activation bytes, by the tensor sizes that make them up. */
export interface LayerActivationBytes {
  /** `encoder.3`, `decoder.0`, or `layers.5` for a decoder-only model. */
  name: string;
  /** Residual stream, norms and projections' inputs (tokens × hidden, tokens × heads·headDim, …). */
  tokenBytes: number;
  /** Attention scores, masks, probabilities and their gradients (batch × heads × seq × seq). */
  scoreBytes: number;
  /** The MLP's hidden layer and its gradients (tokens × ffn). */
  mlpBytes: number;
  /** The backward's weight-sized temporaries (a transposed weight per matrix product). */
  weightBytes: number;
  total: number;
}

/** The bytes one training step needs, float32, as the estimate of `trainingMemory`. */
export interface TrainingMemory {
  batch: number;
  seq: number;
  optimizer: MemoryOptimizer;
  /** The weights: 4 bytes a parameter (`num_parameters()`, tied tables once). */
  parameterBytes: number;
  /** One gradient per parameter, alive from the backward to the optimizer step. */
  gradientBytes: number;
  /** AdamW's `exp_avg` and `exp_avg_sq`, SGD's momentum buffer, or nothing (plain SGD). */
  optimizerStateBytes: number;
  /** What tfjs keeps alive at the step's peak besides the weights and gradients. */
  activations: {
    /** Embedding outputs, rotary tables, the final norm, and the embedding tables' backward temporaries. */
    embeddingBytes: number;
    layers: LayerActivationBytes[];
    /** LM head logits, the cross-entropy's vocabulary-sized tensors, and their gradients. */
    headAndLossBytes: number;
    total: number;
  };
  /** parameters + gradients + optimizer states + activations. */
  totalBytes: number;
}

/**
 * The memory of one training step (`lossAndGradients` then an optimizer step) of the model that
 * `description` (`ModelFamily.describe`) describes, computed from its sizes alone: parameters,
 * gradients and optimizer states from the parameter count, activations from per-layer formulas
 * whose counts (`activation-counts.ts`) are the tensors each block keeps alive at the peak in
 * tfjs. Every trainable parameter is counted (nothing frozen), float32 throughout.
 */
export function trainingMemory(
  description: ModelDescription,
  options: TrainingMemoryOptions,
): TrainingMemory {
  const { batch, seq } = options;
  const optimizer = options.optimizer ?? 'adamw';
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seq) || seq < 1) {
    throw new TrainingOptionError(
      `trainingMemory needs whole batch and seq of at least 1, got ${batch} and ${seq}`,
    );
  }
  const counts = activationCounts(description.modelType);
  const tokens = batch * seq;
  const { decoder, encoder, vocabSize, parameterCount } = description;
  const layerBytes = (stack: StackDescription, layerCounts: LayerActivationCounts, prefix: string) => {
    // A decoder's matmulWeights include the LM head, counted with the embedding tables instead.
    const headWeights = stack === decoder ? vocabSize * stack.hiddenSize : 0;
    const perLayerWeights = (stack.matmulWeights - headWeights) / stack.layers;
    return Array.from({ length: stack.layers }, (_, index): LayerActivationBytes => {
      const tokenBytes = wholeBytes(
        FLOAT32_BYTES *
          tokens *
          (layerCounts.hidden * stack.hiddenSize +
            layerCounts.queries * stack.heads * stack.headDim +
            layerCounts.keyValues * stack.kvHeads * stack.headDim +
            layerCounts.headDim * stack.headDim),
      );
      const scoreBytes = wholeBytes(FLOAT32_BYTES * layerCounts.scores * batch * stack.heads * seq * seq);
      const mlpBytes = wholeBytes(FLOAT32_BYTES * layerCounts.ffn * tokens * stack.ffnSize);
      const weightBytes = wholeBytes(FLOAT32_BYTES * perLayerWeights);
      return {
        name: `${prefix}.${index}`,
        tokenBytes,
        scoreBytes,
        mlpBytes,
        weightBytes,
        total: tokenBytes + scoreBytes + mlpBytes + weightBytes,
      };
    });
  };
  const layers = encoder
    ? [
        ...layerBytes(encoder, counts.layer, 'encoder'),
        ...layerBytes(decoder, counts.decoderLayer ?? counts.layer, 'decoder'),
      ]
    : layerBytes(decoder, counts.layer, 'layers');
  const { stack } = counts;
  const embeddingBytes = wholeBytes(
    FLOAT32_BYTES *
      (tokens * (stack.hidden * decoder.hiddenSize + stack.headDim * decoder.headDim) +
        stack.vocabTables * vocabSize * decoder.hiddenSize),
  );
  const headAndLossBytes = wholeBytes(FLOAT32_BYTES * stack.vocab * tokens * vocabSize);
  const activationTotal =
    embeddingBytes + headAndLossBytes + layers.reduce((sum, layer) => sum + layer.total, 0);
  const parameterBytes = FLOAT32_BYTES * parameterCount;
  const statesPerParameter = optimizer === 'adamw' ? 2 : optimizer === 'sgd-momentum' ? 1 : 0;
  const optimizerStateBytes = statesPerParameter * parameterBytes;
  return {
    batch,
    seq,
    optimizer,
    parameterBytes,
    gradientBytes: parameterBytes,
    optimizerStateBytes,
    activations: { embeddingBytes, layers, headAndLossBytes, total: activationTotal },
    totalBytes: 2 * parameterBytes + optimizerStateBytes + activationTotal,
  };
}
