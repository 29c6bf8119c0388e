// The format of a reference folder (fixtures/hf-reference/README.md): what the fixture builder writes,
// read by the models' parity tests and by `tsformer check-parity`.

/** Tolerance of forward tensors when reference.json names none (fixtures/hf-reference/README.md). */
export const DEFAULT_FORWARD_ATOL = 1e-4;
/** Tolerance of beam-search `sequences_scores`. */
export const SEQUENCE_SCORES_ATOL = 1e-4;
/** Below this top-2 margin, a float difference may legitimately flip a generated token. */
export const TIE_MARGIN = 1e-4;

/** reference.json as the fixture builder writes it (Hugging Face names, snake_case). */
export interface ReferenceJson {
  num_parameters?: number;
  atol?: number;
  tokenization?: TokenizationCase[];
  forward?: ForwardCase[];
  generate?: GenerateCase[];
  /** Processors folder only: the names of the processed score tensors. */
  processors?: string[];
}

export interface TokenizationCase {
  text: string;
  /** With special tokens, as the tokenizer adds them. */
  ids: number[];
  tokens?: string[];
  /** `decode(ids, skip_special_tokens=True)`. */
  decoded?: string;
}

export interface ForwardCase {
  prompt: number;
  input_ids: number[][];
  /** Encoder-decoder models: the decoder's input. */
  decoder_input_ids?: number[][];
}

export interface GenerateCase {
  name: string;
  /** The `generate()` keyword arguments. */
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  attention_mask: number[][] | null;
  sequences: number[][];
  sequences_scores?: number[];
  min_top2_margin: number;
}
