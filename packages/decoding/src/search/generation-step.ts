/** What `generate` yields after each step. */
export interface GenerationStep {
  /**
   * The tokens each output row gained: one per row for greedy search and sampling (the pad token for
   * rows already finished); for beam search a single step at the end with each returned
   * hypothesis's whole continuation (not padded).
   */
  readonly newTokens: readonly (readonly number[])[];
  /** Which rows are finished after this step. */
  readonly finished: readonly boolean[];
}

/** What `generateAll` returns, as Hugging Face's `generate` output. */
export interface GenerateOutput {
  /**
   * One row per output sequence (batch × numReturnSequences): the prompt and the generated tokens for
   * decoder-only models, the decoder start and the generated tokens for encoder-decoder ones;
   * finished rows are padded to the longest.
   */
  readonly sequences: number[][];
  /** Beam search only: each returned hypothesis's length-penalised log-probability. */
  readonly sequencesScores?: number[];
}
