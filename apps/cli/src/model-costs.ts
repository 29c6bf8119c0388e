import type { Module } from '@tsformer/core-tensor';
import { Conv1D, embeddingParameterCount, GatedMLP, Linear } from '@tsformer/layers';

/** The attention geometry of one stack of layers (a decoder, or the encoder of an encoder-decoder). */
export interface StackGeometry {
  layers: number;
  hiddenSize: number;
  /** Query heads and key/value heads (fewer with grouped-query attention). */
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Width of the MLP's hidden layer. */
  ffnSize: number;
  /** Keys further back than this are not attended to (and not cached); null: full attention. */
  slidingWindow: number | null;
}

/** What the costs of a model are computed from: its module tree and its geometry. */
export interface CostInputs {
  /** The model, built from its config (no weights needed). */
  model: Module;
  decoder: StackGeometry;
  /** Present for encoder-decoder models; their encoder is the model's child named `encoder`. */
  encoder?: StackGeometry;
  vocabSize: number;
  maxPositions: number;
}

export interface CostEstimates {
  parameters: number;
  /** Parameters outside embedding tables (HF's `num_parameters(exclude_embeddings=True)`). */
  parametersWithoutEmbeddings: number;
  /** Weights multiplied per token (every Linear / Conv1D, a tied lm_head included). */
  matmulWeights: { decoder: number; encoder?: number };
  flopsPerToken: {
    /** Mean over a prompt of `seqLen` tokens (causal attention: position t reads t + 1 keys). */
    prefill: number;
    /** One new token with `seqLen` tokens in context. */
    decode: number;
    /** Encoder-decoder only: one source token of a `seqLen`-token source. */
    encoder?: number;
  };
  kvCacheBytesPerToken: number;
  kvCacheBytesAtFullContext: number;
  /** Peak float32 activations of one prefill forward of `batch` × `seqLen` tokens. */
  activationBytes: number;
}

const FLOAT32_BYTES = 4;

/**
 * Parameter counts, FLOPs, KV-cache and activation memory of a model, from its module tree and
 * geometry. The formulas (a multiply-add is 2 FLOPs; h = heads, d = headDim, L = layers):
 *
 * - matmul FLOPs per token: 2 × (weights of every Linear / Conv1D in the stack);
 * - attention FLOPs per token reading c keys: 4 · L · h · d · c (QKᵀ and the weighted sum of V),
 *   with c = (seqLen + 1) / 2 on average over a causal prompt, c = seqLen when decoding, c = the
 *   source length for encoder tokens and for cross-attention; a sliding window caps c;
 * - KV cache: 2 (K and V) · L · kvHeads · d · 4 bytes per token (float32), × maxPositions at full context;
 * - activations: the residual stream and its normalised copy (2 · B · S · hidden) plus the larger of the
 *   attention step (queries, keys and values, then scores and probabilities: B · S · (h + 2 kvHeads) · d
 *   + 2 · B · h · S²) and the MLP step (3 · B · S · ffn gated, 2 · B · S · ffn otherwise), plus one row
 *   of logits per sequence (B · vocab), all float32.
 */
export function estimateCosts(inputs: CostInputs, batch: number, seqLen: number): CostEstimates {
  const { model, decoder, encoder } = inputs;
  const encoderModule = encoder ? findChild(model, 'encoder') : undefined;
  const allMatmul = matmulWeights(model);
  const encoderMatmul = encoderModule ? matmulWeights(encoderModule) : 0;
  const decoderMatmul = allMatmul - encoderMatmul;
  const selfAttention = (geometry: StackGeometry, keys: number) =>
    4 * geometry.layers * geometry.heads * geometry.headDim * windowed(geometry, keys);
  const crossAttention = encoder ? 4 * decoder.layers * decoder.heads * decoder.headDim * seqLen : 0;

  const flopsPerToken: CostEstimates['flopsPerToken'] = {
    prefill: 2 * decoderMatmul + meanCausalAttention(decoder, seqLen) + crossAttention,
    decode: 2 * decoderMatmul + selfAttention(decoder, seqLen) + crossAttention,
  };
  if (encoder) flopsPerToken.encoder = 2 * encoderMatmul + selfAttention(encoder, seqLen);

  const kvCacheBytesPerToken = 2 * decoder.layers * decoder.kvHeads * decoder.headDim * FLOAT32_BYTES;
  const gated = [...model.modules()].some((module) => module instanceof GatedMLP);
  const stacks = encoder ? [decoder, encoder] : [decoder];
  const activationBytes =
    Math.max(...stacks.map((stack) => stackActivations(stack, batch, seqLen, gated))) +
    batch * inputs.vocabSize * FLOAT32_BYTES;

  const parameters = model.numParameters();
  return {
    parameters,
    parametersWithoutEmbeddings: parameters - embeddingParameterCount(model),
    matmulWeights: encoder ? { decoder: decoderMatmul, encoder: encoderMatmul } : { decoder: decoderMatmul },
    flopsPerToken,
    kvCacheBytesPerToken,
    kvCacheBytesAtFullContext: kvCacheBytesPerToken * windowed(decoder, inputs.maxPositions),
    activationBytes,
  };
}

function windowed(geometry: StackGeometry, keys: number): number {
  return geometry.slidingWindow === null ? keys : Math.min(keys, geometry.slidingWindow);
}

/** Attention FLOPs averaged over the tokens of a causal prompt: token t reads t + 1 keys. */
function meanCausalAttention(geometry: StackGeometry, seqLen: number): number {
  let keys = 0;
  for (let t = 0; t < seqLen; t++) keys += windowed(geometry, t + 1);
  return (4 * geometry.layers * geometry.heads * geometry.headDim * keys) / seqLen;
}

function stackActivations(stack: StackGeometry, batch: number, seqLen: number, gated: boolean): number {
  const tokens = batch * seqLen;
  const keys = windowed(stack, seqLen);
  const residual = 2 * tokens * stack.hiddenSize;
  const attention =
    tokens * (stack.heads + 2 * stack.kvHeads) * stack.headDim + 2 * batch * stack.heads * seqLen * keys;
  const mlp = (gated ? 3 : 2) * tokens * stack.ffnSize;
  return (residual + Math.max(attention, mlp)) * FLOAT32_BYTES;
}

/** Σ in × out over every Linear and Conv1D of the tree (a shared weight counts at each use). */
export function matmulWeights(module: Module): number {
  let total = 0;
  for (const child of module.modules()) {
    if (child instanceof Linear || child instanceof Conv1D) total += child.inFeatures * child.outFeatures;
  }
  return total;
}

/** The first descendant registered under `name` (breadth-first), e.g. `model.encoder`. */
function findChild(module: Module, name: string): Module | undefined {
  const queue: Module[] = [module];
  for (let current = queue.shift(); current; current = queue.shift()) {
    for (const [childName, child] of current.namedChildren()) {
      if (childName === name) return child;
      queue.push(child);
    }
  }
  return undefined;
}
