import { TrainingOptionError } from './errors.js';

/**
 * How many tensors of each size one layer keeps alive at a training step's peak, in float32
 * elements per token (and per score row for `scores`). tfjs keeps every tensor an op saved for its
 * gradient until `variableGrads` returns, and the backward pass adds one gradient per kept tensor
 * before freeing anything, so the peak is the end of the backward: these counts are what is alive
 * then, forward and backward together.
 */
export interface LayerActivationCounts {
  /** `[tokens, hidden]`-sized tensors (residual stream, norms, projections' inputs and their gradients). */
  hidden: number;
  /** `[tokens, heads · headDim]`-sized ones: queries (and their gradients) where `heads · headDim ≠ hidden`. */
  queries: number;
  /** `[tokens, kvHeads · headDim]`-sized ones: keys and values before GQA repeats them. */
  keyValues: number;
  /** `[tokens, headDim]`-sized ones: RoPE's cos/sin tables and the per-head slices of their rotation. */
  headDim: number;
  /** `[tokens, ffn]`-sized ones: the MLP's hidden layer (gate, up, activation) and their gradients. */
  ffn: number;
  /** `[batch, heads, queries, keys]`-sized ones: scores, masks, softmax, dropout and their gradients. */
  scores: number;
}

/** What the embeddings, the final norm, the LM head and the loss keep alive at the peak. */
export interface StackActivationCounts {
  /** `[tokens, hidden]`-sized: embedding outputs, final norm, the head's input and their gradients. */
  hidden: number;
  /** `[tokens, headDim]`-sized: the rotary tables built once per forward. */
  headDim: number;
  /**
   * `[target tokens, vocab]`-sized: logits, the shifted slice, log-softmax, the one-hot labels of
   * `crossEntropy` and the gradient of each (the loss dominates the peak of small models).
   */
  vocab: number;
  /**
   * `[vocab, hidden]`-sized backward temporaries beyond the gradients: the gather's dense gradient of
   * the embedding table, the transposed table of the head's matmul gradient, and (tied tables) the
   * sum of the two uses.
   */
  vocabTables: number;
}

/** One family's counts: its layers (an encoder-decoder's encoder and decoder layers differ) and its stack. */
export interface FamilyActivationCounts {
  layer: LayerActivationCounts;
  /** An encoder-decoder's decoder layer (self-attention, cross-attention, MLP). */
  decoderLayer?: LayerActivationCounts;
  stack: StackActivationCounts;
}

const LLAMA: FamilyActivationCounts = {
  layer: { hidden: 48.25, queries: 27, keyValues: 28, headDim: 11, ffn: 18, scores: 15.25 },
  stack: { hidden: 21.33, headDim: 2, vocab: 15, vocabTables: 3.39 },
};

const BART: FamilyActivationCounts = {
  layer: { hidden: 98.33, queries: 0, keyValues: 0, headDim: 0, ffn: 24, scores: 13 },
  decoderLayer: { hidden: 170.5, queries: 0, keyValues: 0, headDim: 0, ffn: 24, scores: 28.25 },
  stack: { hidden: 55.6, headDim: 0, vocab: 17, vocabTables: 7.25 },
};

/**
 * The counts by `model_type`, taken from one instrumented `lossAndGradients` per family on wasm
 * (every tensor created or freed during the step classified by its shape, at the moment the live
 * bytes peak; `training-memory.test.ts` checks the resulting estimate against real steps of other
 * sizes). Families that share a block share its counts (Mistral, Qwen2 and Gemma run Llama's
 * block; Marian and the classic Transformer run BART's).
 */
const COUNTS: Record<string, FamilyActivationCounts> = {
  llama: LLAMA,
  mistral: LLAMA,
  qwen2: LLAMA,
  gemma: LLAMA,
  qwen3: {
    layer: { hidden: 49, queries: 35, keyValues: 36, headDim: 11, ffn: 18, scores: 15.25 },
    stack: { hidden: 15.27, headDim: 2, vocab: 15, vocabTables: 4.64 },
  },
  gemma2: {
    layer: { hidden: 64.5, queries: 27, keyValues: 28, headDim: 11, ffn: 38, scores: 21.32 },
    stack: { hidden: 22.33, headDim: 2, vocab: 21, vocabTables: 4.65 },
  },
  phi3: {
    layer: { hidden: 89.25, queries: 0, keyValues: 0, headDim: 26, ffn: 20, scores: 15.25 },
    stack: { hidden: 21.33, headDim: 2, vocab: 15, vocabTables: 3.25 },
  },
  gpt_neox: {
    layer: { hidden: 111.5, queries: 0, keyValues: 0, headDim: 0, ffn: 24, scores: 15.25 },
    stack: { hidden: 22.48, headDim: 0, vocab: 15, vocabTables: 3.12 },
  },
  gpt2: {
    layer: { hidden: 93.33, queries: 0, keyValues: 0, headDim: 0, ffn: 34, scores: 15.25 },
    stack: { hidden: 26.31, headDim: 0, vocab: 15, vocabTables: 4.3 },
  },
  bart: BART,
  marian: BART,
  transformer: BART,
  t5: {
    layer: { hidden: 44.25, queries: 32, keyValues: 0, headDim: 0, ffn: 8, scores: 15 },
    decoderLayer: { hidden: 70.38, queries: 64, keyValues: 0, headDim: 0, ffn: 8, scores: 30.25 },
    stack: { hidden: 27.4, headDim: 0, vocab: 15, vocabTables: 6.94 },
  },
};

/** The activation counts of `modelType`'s blocks; a `TrainingOptionError` for a family without them. */
export function activationCounts(modelType: string): FamilyActivationCounts {
  const counts = COUNTS[modelType];
  if (!counts) {
    throw new TrainingOptionError(
      `no activation counts for model_type "${modelType}": known are ${Object.keys(COUNTS).join(', ')}`,
    );
  }
  return counts;
}
