/**
 * The arithmetic every family's `describe` is written in: the parameters of linear layers, tables and
 * norms, computed from sizes alone (no module is built), kept apart as the calculators need them.
 * A family's describe function adds up its parts the way its model class registers them, so the
 * result is exactly the module tree's `numParameters()` (a test builds both and compares).
 */

/** The counts of one part of a model. */
export interface ParameterTally {
  /** Parameters, each counted once (HF's `num_parameters()`). */
  readonly parameters: number;
  /** The part of `parameters` in embedding tables (what HF's `exclude_embeddings` leaves out). */
  readonly embeddings: number;
  /** Σ in × out of its matrix products, a tied head included: 2 FLOPs per weight per token. */
  readonly matmulWeights: number;
}

function tally(parameters: number, embeddings: number, matmulWeights: number): ParameterTally {
  return { parameters, embeddings, matmulWeights };
}

/** A `Linear` (or GPT-2's `Conv1D`, the same numbers): `[out, in]` weights and an optional bias. */
export function linear(inFeatures: number, outFeatures: number, bias = true): ParameterTally {
  const weights = inFeatures * outFeatures;
  return tally(weights + (bias ? outFeatures : 0), 0, weights);
}

/** A head whose weight is a table counted elsewhere (a tied `lm_head`): no parameter, all the products. */
export function tiedLinear(inFeatures: number, outFeatures: number): ParameterTally {
  return tally(0, 0, inFeatures * outFeatures);
}

/** An embedding table (token ids, learned or sinusoidal positions). */
export function embedding(rows: number, dim: number): ParameterTally {
  return tally(rows * dim, rows * dim, 0);
}

/** A LayerNorm with weight and bias. */
export function layerNorm(dim: number): ParameterTally {
  return tally(2 * dim, 0, 0);
}

/** An RMSNorm (a weight, no bias). */
export function rmsNorm(dim: number): ParameterTally {
  return tally(dim, 0, 0);
}

/** No parameters: a part a config leaves out (an optional norm), or a buffer HF does not count. */
export const NOTHING: ParameterTally = tally(0, 0, 0);

export function sum(...parts: readonly ParameterTally[]): ParameterTally {
  return parts.reduce(
    (total, part) =>
      tally(
        total.parameters + part.parameters,
        total.embeddings + part.embeddings,
        total.matmulWeights + part.matmulWeights,
      ),
    NOTHING,
  );
}

/** `part` `times` times (identical layers). */
export function repeat(times: number, part: ParameterTally): ParameterTally {
  return tally(times * part.parameters, times * part.embeddings, times * part.matmulWeights);
}

/** The sizes of one attention block's projections. */
export interface AttentionSizes {
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Biases on the query, key and value projections. */
  queryKeyValueBias: boolean;
  /** Bias on the output projection. */
  outputBias: boolean;
}

/**
 * Multi-head attention's projections: queries and output over `heads`, keys and values over
 * `kvHeads` (one fused `c_attn` of GPT-2 has the same numbers as three separate ones).
 */
export function attentionProjections(sizes: AttentionSizes): ParameterTally {
  const { hiddenSize, heads, kvHeads, headDim, queryKeyValueBias, outputBias } = sizes;
  return sum(
    linear(hiddenSize, heads * headDim, queryKeyValueBias),
    repeat(2, linear(hiddenSize, kvHeads * headDim, queryKeyValueBias)),
    linear(heads * headDim, hiddenSize, outputBias),
  );
}

/** The two-layer MLP: `hidden → ffn → hidden`. */
export function mlp(hiddenSize: number, ffnSize: number, bias = true): ParameterTally {
  return sum(linear(hiddenSize, ffnSize, bias), linear(ffnSize, hiddenSize, bias));
}

/** A gated MLP (SwiGLU, GeGLU): gate and up `hidden → ffn`, down `ffn → hidden`. */
export function gatedMlp(hiddenSize: number, ffnSize: number, bias = false): ParameterTally {
  return sum(repeat(2, linear(hiddenSize, ffnSize, bias)), linear(ffnSize, hiddenSize, bias));
}

/** Bytes of one float32 value: the dtype caches hold keys and values in. */
export const FLOAT32_BYTES = 4;

/**
 * Bytes the KV cache holds per token: keys and values of every self-attention layer, given as the
 * key/value width (`kvHeads × headDim`) of each layer, in float32.
 */
export function kvCacheBytesPerToken(keyValueWidths: readonly number[]): number {
  return keyValueWidths.reduce((total, width) => total + 2 * width * FLOAT32_BYTES, 0);
}

/** A language-model head `hidden → vocab` without bias: the token table itself when tied. */
export function languageModelHead(hiddenSize: number, vocabSize: number, tied: boolean): ParameterTally {
  return tied ? tiedLinear(hiddenSize, vocabSize) : linear(hiddenSize, vocabSize, false);
}
