import type { GenerationOptions } from '../config/generation-options.js';
import type { LogitsProcessor } from '../processors/logits-processor.js';
import type { StoppingCriterion } from '../stopping/stopping-criterion.js';

/**
 * One request to the batching scheduler: Hugging Face generation parameters (as `generate` takes
 * them, over the model's defaults and `generationConfig`) for greedy search or sampling of one row,
 * plus what a server needs per request (a seed, a signal, logprobs, a token callback).
 */
export interface BatchRequestOptions extends GenerationOptions {
  /** A layer between the model's defaults and these options, e.g. `parseGenerationConfig(json)`. */
  readonly generationConfig?: GenerationOptions;
  /** Extra processors, merged as `generate` merges them (e.g. OpenAI's presence/frequency penalties). */
  readonly logitsProcessors?: readonly LogitsProcessor[];
  readonly stoppingCriteria?: readonly StoppingCriterion[];
  /** Seed of this request's own sampling draws (the same tokens as `generate` with this seed). */
  readonly seed?: number;
  /** The clock `maxTime` reads, in milliseconds. Default `performance.now`. */
  readonly clock?: () => number;
  /**
   * Cancels the request: a waiting request leaves the queue at once, a running one leaves the batch
   * (its cache rows freed) at the next step; the result rejects with GenerationAbortedError.
   */
  readonly signal?: AbortSignal;
  /**
   * Report each token's log-probability and this many most likely alternatives (0 for none), under
   * the model's own next-token distribution (log-softmax of its logits, before any processor).
   * Undefined: no log-probabilities.
   */
  readonly topLogprobs?: number;
  /** Receives each generated token as soon as its step ends. */
  readonly onToken?: (token: GeneratedToken) => void;
  /** Receives one-line warnings (a prompt past a rotary model's positions). Default `console.warn`. */
  readonly onWarning?: (message: string) => void;
}

/** A token id with its log-probability. */
export interface TokenLogprob {
  readonly id: number;
  readonly logprob: number;
}

/** One generated token, with log-probabilities when the request asked for them. */
export interface GeneratedToken {
  readonly id: number;
  readonly logprob?: number;
  /** The `topLogprobs` most likely tokens at this step, most likely first. */
  readonly topLogprobs?: readonly TokenLogprob[];
}

/** Why a request ended, in OpenAI's words: an EOS token or stop string (`stop`), or its length limit. */
export type FinishReason = 'stop' | 'length';

/** What a finished request resolves to. */
export interface BatchResult {
  /** The prompt followed by the generated tokens (what `generate` gives as the row's `sequences`). */
  readonly sequence: readonly number[];
  /** The generated tokens alone, with log-probabilities when asked for. */
  readonly generated: readonly GeneratedToken[];
  readonly promptLength: number;
  readonly finishReason: FinishReason;
}
