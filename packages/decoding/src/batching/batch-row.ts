import * as tf from '@tensorflow/tfjs-core';
import { GenerationAbortedError } from '../errors.js';
import type { GenerationPlan } from '../generation-plan.js';
import { applyLogitsProcessors, type LogitsProcessor } from '../processors/logits-processor.js';
import { isRowwiseProcessor } from '../processors/rowwise.js';
import { isTokenBanProcessor } from '../processors/token-ban.js';
import { sampleTokens } from '../search/sampling.js';
import { anyCriterionDone } from '../stopping/stopping-criterion.js';
import type { BatchResult, FinishReason, GeneratedToken } from './batch-request.js';

/**
 * One request inside the scheduler: its plan (processors, criteria, sampling draws), its tokens so far,
 * how many of them the batch cache holds for it, and the promise its caller awaits.
 */
export class BatchRow {
  /** The prompt and every generated token. */
  readonly sequence: number[];
  readonly generated: GeneratedToken[] = [];
  /** Tokens of `sequence` in the batch cache (the last generated token is fed by the next step). */
  cachedLength = 0;
  /** Set once the row has ended (its tokens are final) or failed; it leaves the batch at the next step. */
  ended = false;
  private readonly settle: { resolve: (result: BatchResult) => void; reject: (error: unknown) => void };
  readonly result: Promise<BatchResult>;

  constructor(
    readonly prompt: readonly number[],
    readonly plan: GenerationPlan,
    /** 0 or more alternatives to report with logprobs; undefined: no logprobs. */
    readonly topLogprobs: number | undefined,
    private readonly onToken: ((token: GeneratedToken) => void) | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    this.sequence = [...prompt];
    let settle: BatchRow['settle'] | undefined;
    this.result = new Promise<BatchResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.settle = settle!;
  }

  get aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  /**
   * Rows with the same key choose their tokens together: their processors ban ids (min length, min
   * new tokens, suppressed tokens: `bannedTokens()`, one scatter for the whole batch), then act on
   * each row alone with equal settings (`rowwiseProcessors`: temperature, top-k, top-p, …), then one
   * argmax or one draw per row. Undefined: this row's processors need its own call (`chooseToken`).
   */
  get batchKey(): string | undefined {
    const processors = this.plan.processors;
    const bans = processors.findIndex((processor) => !isTokenBanProcessor(processor));
    const rowwise = bans < 0 ? [] : processors.slice(bans);
    if (!rowwise.every(isRowwiseProcessor)) return undefined;
    const search = this.plan.random === undefined ? 'greedy' : 'sample';
    return [search, ...rowwise.map((processor) => processor.rowwiseKey)].join(' | ');
  }

  /** The processors after the leading bans (for a row with a `batchKey`: each acts on its row alone). */
  get rowwiseProcessors(): readonly LogitsProcessor[] {
    return this.plan.processors.filter((processor) => !isTokenBanProcessor(processor));
  }

  /** The ids this row's processors ban at this step. */
  bannedTokens(): number[] {
    return this.plan.processors.flatMap((processor) =>
      isTokenBanProcessor(processor) ? processor.bannedTokens(this.sequence) : [],
    );
  }

  /** This step's uniform draw for sampling (each row draws from its own seeded stream). */
  drawUniform(): number {
    return this.plan.random!.uniform();
  }

  /** The token the next decode step feeds. */
  get lastToken(): number {
    return this.sequence[this.sequence.length - 1]!;
  }

  /**
   * This row's next token from its next-token logits `[1, vocab]`: its processors applied to its own
   * tokens, then the argmax (greedy) or one seeded draw (sampling), as `generate` does for one row.
   * Returns `[1]` int32; call inside the step's `tf.tidy`.
   */
  chooseToken(logits: tf.Tensor2D): tf.Tensor1D {
    const scores = applyLogitsProcessors(this.plan.processors, [this.sequence], logits);
    const random = this.plan.random;
    if (random === undefined) return tf.argMax(scores, 1) as tf.Tensor1D;
    return sampleTokens(scores, tf.tensor2d([[this.drawUniform()]], [1, 1], 'float32'));
  }

  /**
   * Takes the step's token; ends the row (resolving its result) when a stopping criterion says so.
   * A throwing `onToken` fails this row only, never the batch.
   */
  accept(token: GeneratedToken): void {
    this.sequence.push(token.id);
    this.generated.push(token);
    try {
      this.onToken?.(token);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (anyCriterionDone(this.plan.criteria, [this.sequence])[0]) this.finish();
  }

  /** Ends the row with an error (cancellation, a failed step); it leaves the batch at the next step. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.settle.reject(error);
  }

  /** Fails the row with its signal's reason. */
  abort(): void {
    this.fail(new GenerationAbortedError(this.signal?.reason));
  }

  private finish(): void {
    this.ended = true;
    this.settle.resolve({
      sequence: this.sequence,
      generated: this.generated,
      promptLength: this.prompt.length,
      finishReason: this.finishReason(),
    });
  }

  /** `length` when the row reached its maximum length without an EOS token, `stop` otherwise. */
  private finishReason(): FinishReason {
    const eos = this.plan.config.eosTokenId ?? [];
    if (eos.includes(this.lastToken)) return 'stop';
    return this.sequence.length >= this.plan.maxLength ? 'length' : 'stop';
  }
}
