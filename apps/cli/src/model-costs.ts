import type { ModelDescription, StackDescription } from '@tsformer/models';

/**
 * A count that is exact: a number while it is a safe integer, a bigint past 2^53 (printed digit for
 * digit, never rounded to something like 18446744073709552000).
 */
export type ExactCount = number | bigint;

export interface CostEstimates {
  parameters: number;
  /** Parameters outside embedding tables (HF's `num_parameters(exclude_embeddings=True)`). */
  parametersWithoutEmbeddings: number;
  /** Weights multiplied per token (every linear layer, a tied lm_head included). */
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
  /** At `maxPositions` tokens (a sliding window caps it); null when the model has no position limit. */
  kvCacheBytesAtFullContext: ExactCount | null;
  /** Peak float32 activations of one prefill forward of `batch` × `seqLen` tokens. */
  activationBytes: ExactCount;
}

const FLOAT32_BYTES = 4n;

/**
 * FLOPs per token, KV-cache and activation memory of a model, from its description alone (no module
 * is built). The formulas (a multiply-add is 2 FLOPs; h = heads, d = headDim, L = layers):
 *
 * - matmul FLOPs per token: 2 × (weights of every linear layer of the stack);
 * - attention FLOPs per token reading c keys: 4 · L · h · d · c (QKᵀ and the weighted sum of V),
 *   with c = (seqLen + 1) / 2 on average over a causal prompt, c = seqLen when decoding, c = the
 *   source length for encoder tokens and for cross-attention; a sliding window caps c;
 * - KV cache: the description's bytes per token, × maxPositions at full context;
 * - activations: the residual stream and its normalised copy (2 · B · S · hidden) plus the larger of the
 *   attention step (queries, keys and values, then scores and probabilities: B · S · (h + 2 kvHeads) · d
 *   + 2 · B · h · S²) and the MLP step (3 · B · S · ffn gated, 2 · B · S · ffn otherwise), plus one row
 *   of logits per sequence (B · vocab), all float32.
 */
export function estimateCosts(description: ModelDescription, batch: number, seqLen: number): CostEstimates {
  const { decoder, encoder } = description;
  const attentionPerKey = (stack: StackDescription) => 4 * stack.layers * stack.heads * stack.headDim;
  const crossAttention = encoder ? attentionPerKey(decoder) * seqLen : 0;
  const flopsPerToken: CostEstimates['flopsPerToken'] = {
    prefill:
      2 * decoder.matmulWeights +
      (attentionPerKey(decoder) * causalKeys(decoder, seqLen)) / seqLen +
      crossAttention,
    decode: 2 * decoder.matmulWeights + attentionPerKey(decoder) * windowed(decoder, seqLen) + crossAttention,
  };
  if (encoder) {
    flopsPerToken.encoder = 2 * encoder.matmulWeights + attentionPerKey(encoder) * windowed(encoder, seqLen);
  }
  const { maxPositions } = description;
  const stacks = encoder ? [decoder, encoder] : [decoder];
  const peakStack = largest(stacks.map((stack) => stackActivationBytes(stack, batch, seqLen)));
  return {
    parameters: description.parameterCount,
    parametersWithoutEmbeddings: description.parameterCount - description.embeddingParameterCount,
    matmulWeights: encoder
      ? { decoder: decoder.matmulWeights, encoder: encoder.matmulWeights }
      : { decoder: decoder.matmulWeights },
    flopsPerToken,
    kvCacheBytesPerToken: description.kvCacheBytesPerToken,
    kvCacheBytesAtFullContext:
      maxPositions === null
        ? null
        : exact(BigInt(description.kvCacheBytesPerToken) * BigInt(windowed(decoder, maxPositions))),
    activationBytes: exact(peakStack + BigInt(batch) * BigInt(description.vocabSize) * FLOAT32_BYTES),
  };
}

/** `value` as a number when that is exact, else as the bigint itself. */
function exact(value: bigint): ExactCount {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function windowed(stack: StackDescription, keys: number): number {
  return stack.slidingWindow === null ? keys : Math.min(keys, stack.slidingWindow);
}

/** Σ over the tokens of a causal prompt of the keys each reads (t + 1, capped by the window). */
function causalKeys(stack: StackDescription, seqLen: number): number {
  const window = windowed(stack, seqLen);
  return (window * (window + 1)) / 2 + (seqLen - window) * window;
}

function stackActivationBytes(stack: StackDescription, batch: number, seqLen: number): bigint {
  const [tokens, keys] = [BigInt(batch) * BigInt(seqLen), BigInt(windowed(stack, seqLen))];
  const [heads, kvHeads, headDim] = [BigInt(stack.heads), BigInt(stack.kvHeads), BigInt(stack.headDim)];
  const residual = 2n * tokens * BigInt(stack.hiddenSize);
  const attention =
    tokens * (heads + 2n * kvHeads) * headDim + 2n * BigInt(batch) * heads * BigInt(seqLen) * keys;
  const mlp = (stack.gatedMlp ? 3n : 2n) * tokens * BigInt(stack.ffnSize);
  return (residual + largest([attention, mlp])) * FLOAT32_BYTES;
}

/** The largest of `values` (Math.max takes no bigint). */
function largest(values: readonly bigint[]): bigint {
  let max = values[0]!;
  for (const value of values) if (value > max) max = value;
  return max;
}
