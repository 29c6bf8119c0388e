import { ConfigFieldError } from '@tsformer/core-tensor';

/** One stack of layers: a decoder-only model's, or the encoder or the decoder of an encoder-decoder. */
export interface StackDescription {
  layers: number;
  /** Width of the residual stream (`hidden_size`, `n_embd`, `d_model`). */
  hiddenSize: number;
  /** Query heads per layer (GPT-2: before `pruned_heads`). */
  heads: number;
  /** Key/value heads per layer: fewer than `heads` with grouped- or multi-query attention. */
  kvHeads: number;
  headDim: number;
  /** Width of the MLP's hidden layer. */
  ffnSize: number;
  /** A gated MLP (SwiGLU, GeGLU: gate, up and down projections) rather than a two-layer one. */
  gatedMlp: boolean;
  /** Every layer attends to (and caches) at most this many positions; null: some layer sees them all. */
  slidingWindow: number | null;
  /** Σ in × out of the stack's matrix products per token (a decoder's includes the LM head, tied or not). */
  matmulWeights: number;
}

/**
 * What a config describes, computed from its numbers alone (no module is built): the sizes the CLI
 * and calculators need, and Hugging Face's parameter counts. Returned by `ModelFamily.describe`.
 */
export interface ModelDescription {
  modelType: string;
  task: 'causal-lm' | 'seq2seq-lm';
  /** The decoder-only model's layers, or an encoder-decoder's decoder. */
  decoder: StackDescription;
  /** An encoder-decoder's encoder; null for decoder-only models. */
  encoder: StackDescription | null;
  /** Rows of the output projection (an encoder-decoder's target vocabulary). */
  vocabSize: number;
  /** Positions the model was built for (`max_position_embeddings`); null where unbounded. */
  maxPositions: number | null;
  /** The MLP's activation, as HF names it (`gelu_new`, `silu`). */
  activation: string;
  /** The LM head is the (decoder's) token embedding table. */
  tiedEmbeddings: boolean;
  /** Bytes the KV cache holds per token: keys and values of every decoder self-attention layer, float32. */
  kvCacheBytesPerToken: number;
  /** HF's `num_parameters()`: every parameter once (tied tables once), buffers left out. */
  parameterCount: number;
  /** The part of `parameterCount` in embedding tables; the rest is `num_parameters(exclude_embeddings=True)`. */
  embeddingParameterCount: number;
}

/**
 * Returns `description` once every count in it is exact: a sum past 2^53 (sizes each within bounds
 * can still multiply that far) is a `ConfigFieldError`, never a rounded number.
 */
export function exactDescription(description: ModelDescription): ModelDescription {
  const { decoder, encoder, kvCacheBytesPerToken, parameterCount } = description;
  const counts = [parameterCount, kvCacheBytesPerToken, decoder.matmulWeights, encoder?.matmulWeights ?? 0];
  if (!counts.every(Number.isSafeInteger)) {
    throw new ConfigFieldError(
      `${description.modelType} config`,
      'sizes',
      `give ${parameterCount.toExponential(3)} parameters, past 2^53, the largest count a number holds exactly`,
    );
  }
  return description;
}
