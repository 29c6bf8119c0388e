import * as tf from '@tensorflow/tfjs-core';
import type { Cache } from '@tsformer/cache';
import { resolveGenerationConfig } from '../config/generation-config.js';
import {
  BatchQueueFullError,
  GenerationAbortedError,
  GenerationConfigError,
  GenerationInputError,
} from '../errors.js';
import { readInputIds } from '../generation-inputs.js';
import { planGeneration } from '../generation-plan.js';
import type { CausalLM, CausalLMForwardInputs, TokenDecoder } from '../language-model.js';
import { CausalSession } from '../search/causal-session.js';
import { lastPositionLogits } from '../search/model-session.js';
import { yieldToEventLoop } from '../step-gate.js';
import type { BatchRequestOptions, BatchResult, GeneratedToken } from './batch-request.js';
import { BatchRow } from './batch-row.js';
import { selectTokens } from './step-selection.js';

/** Padding every row has is dropped once it is at least 1/DROP_PADDING_SHARE of the cache's length. */
const DROP_PADDING_SHARE = 4;

export interface BatchSchedulerOptions {
  /** Most rows decoded together (default 8); further requests wait. */
  readonly maxBatch?: number;
  /** Most requests waiting for a row (default 64); `submit` rejects beyond with BatchQueueFullError. */
  readonly maxQueue?: number;
  /** Needed by requests with `stopStrings`. */
  readonly tokenDecoder?: TokenDecoder;
}

/** What the scheduler is doing now and has done, for metrics. */
export interface BatchSchedulerStats {
  /** Requests waiting for a row. */
  readonly waiting: number;
  /** Rows in the running batch. */
  readonly running: number;
  /** Decode steps run over the batch (prefills not counted). */
  readonly steps: number;
  /** Tokens generated over all requests. */
  readonly generatedTokens: number;
}

/**
 * Continuous batching for one decoder-only model: requests join a running batch between decode steps
 * and leave it when they end, so concurrent requests share each step's forward instead of queueing
 * behind one another. The requests that arrived since the last step are prefilled together (one
 * forward over their left-padded prompts; each row's first token comes from it), then their cache rows
 * are merged into the batch's (`Cache.joinRows`, left-padded); every decode step then feeds each row
 * its last token with its own position and an attention mask that hides the padding. A row that ends
 * or is cancelled leaves at the next step (`Cache.reorder` with the rows that stay), and padding no
 * row needs any more is dropped (`Cache.dropStart`) once it is a quarter of the cache. Each request
 * is greedy search or sampling with its own parameters, processors, stopping criteria and seed, so
 * its tokens are those `generate` gives for it alone: rows never influence each other.
 */
export class BatchScheduler {
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly waiting: BatchRow[] = [];
  private running: BatchRow[] = [];
  /** The running batch's cache: row i belongs to `running[i]`. */
  private cache: Cache | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private steps = 0;
  private generatedTokens = 0;

  constructor(
    private readonly model: CausalLM,
    private readonly options: BatchSchedulerOptions = {},
  ) {
    this.maxBatch = positiveInteger(options.maxBatch ?? 8, 'maxBatch');
    this.maxQueue = positiveInteger(options.maxQueue ?? 64, 'maxQueue');
    const probe = model.createCache(1, 1, 'dynamic');
    const joinable = probe.canJoinRows?.() === true;
    probe.dispose();
    if (!joinable) {
      throw new GenerationInputError(
        "continuous batching needs a cache whose layers can join rows (dynamic or sliding-window layers); this model's cache cannot",
      );
    }
  }

  /**
   * Queues a request for the prompt's token ids and resolves with its tokens when it ends. Rejects with
   * a GenerationConfigError / GenerationInputError for bad parameters or inputs (before queueing),
   * BatchQueueFullError when `maxQueue` requests are waiting, GenerationAbortedError when `signal`
   * aborts it or the scheduler is closed.
   */
  async submit(prompt: readonly number[], options: BatchRequestOptions = {}): Promise<BatchResult> {
    if (this.closed) throw closedError();
    const row = await this.prepare(prompt, options);
    if (this.closed) throw closedError();
    if (row.aborted) row.abort();
    else if (this.waiting.length >= this.maxQueue) throw new BatchQueueFullError(this.maxQueue);
    else {
      this.waiting.push(row);
      row.signal?.addEventListener('abort', () => this.leaveQueue(row), { once: true });
      this.loop ??= this.run();
    }
    return row.result;
  }

  stats(): BatchSchedulerStats {
    return {
      waiting: this.waiting.length,
      running: this.running.length,
      steps: this.steps,
      generatedTokens: this.generatedTokens,
    };
  }

  /** Fails every waiting and running request (GenerationAbortedError) and frees the batch's cache. */
  async close(): Promise<void> {
    this.closed = true;
    for (const row of [...this.waiting, ...this.running]) row.fail(closedError());
    this.waiting.length = 0;
    await this.loop;
  }

  private async prepare(prompt: readonly number[], options: BatchRequestOptions): Promise<BatchRow> {
    const {
      generationConfig,
      logitsProcessors,
      stoppingCriteria,
      seed,
      clock,
      signal,
      topLogprobs,
      onToken,
      onWarning,
      ...callOptions
    } = options;
    const config = resolveGenerationConfig(this.model.generationConfig, generationConfig, callOptions);
    if (config.numBeams > 1) {
      throw new GenerationConfigError(
        'numBeams',
        'continuous batching runs greedy search or sampling: numBeams must be 1',
      );
    }
    if (config.numReturnSequences > 1) {
      throw new GenerationConfigError(
        'numReturnSequences',
        'continuous batching runs one row per request: submit one request per returned sequence',
      );
    }
    if (!config.useCache || config.cacheImplementation !== 'dynamic') {
      throw new GenerationConfigError(
        'cacheImplementation',
        'continuous batching needs useCache with a dynamic cache',
      );
    }
    if (topLogprobs !== undefined && !(Number.isInteger(topLogprobs) && topLogprobs >= 0)) {
      throw new GenerationConfigError(
        'topLogprobs',
        `topLogprobs must be an integer ≥ 0, got ${topLogprobs}`,
      );
    }
    const [ids] = await readInputIds([prompt as number[]], this.model.vocabSize);
    const plan = planGeneration(this.model, config, {
      promptLength: ids!.length,
      encoderInputIds: [ids!],
      callerLeftMaxLength: callOptions.maxLength === undefined,
      logitsProcessors,
      stoppingCriteria,
      tokenDecoder: this.options.tokenDecoder,
      clock,
      seed,
      onWarning,
    });
    if (this.model.reusesCache?.(plan.maxLength - 1, plan.maxLength) === false) {
      throw new GenerationInputError(
        `maxLength ${plan.maxLength} is past where this model can keep its cache; continuous batching cannot serve it`,
      );
    }
    return new BatchRow(ids!, plan, topLogprobs, onToken, signal);
  }

  private leaveQueue(row: BatchRow): void {
    const index = this.waiting.indexOf(row);
    if (index >= 0) this.waiting.splice(index, 1);
    row.abort();
  }

  /** Steps the batch until no request is running or waiting. */
  private async run(): Promise<void> {
    try {
      while (this.running.length > 0 || this.waiting.length > 0) {
        await yieldToEventLoop();
        this.removeEndedRows();
        await this.admitWaitingRows();
        if (this.running.length > 0) await this.decodeStep();
      }
      this.removeEndedRows();
    } finally {
      this.loop = undefined;
    }
  }

  /** Rows that ended, failed or were cancelled leave the batch; padding every remaining row has is dropped. */
  private removeEndedRows(): void {
    for (const row of this.running) if (row.aborted) row.abort();
    const kept = this.running.flatMap((row, index) => (row.ended ? [] : [index]));
    if (kept.length === this.running.length) return;
    this.running = kept.map((index) => this.running[index]!);
    if (kept.length === 0) {
      this.cache?.dispose();
      this.cache = undefined;
      return;
    }
    this.cache!.reorder(kept);
    const length = this.cache!.getSeqLength();
    const sharedPadding = Math.min(...this.running.map((row) => length - row.cachedLength));
    // Masked padding costs a step little; dropping it copies the front of every layer. Drop it once
    // it is a good part of the cache, so that the cache stays within a bound of what the rows need.
    if (sharedPadding > 0 && sharedPadding * DROP_PADDING_SHARE >= length)
      this.cache!.dropStart!(sharedPadding);
  }

  /**
   * Waiting requests take the free rows: they are prefilled together (one forward, as `generate`
   * prefills a batch of left-padded prompts), then their cache rows join the batch's.
   */
  private async admitWaitingRows(): Promise<void> {
    const free = this.maxBatch - this.running.length;
    if (free <= 0 || this.waiting.length === 0) return;
    const joining = this.waiting.splice(0, free);
    const prefilled = await this.prefill(joining);
    if (prefilled === undefined) return;
    if (this.cache === undefined) this.cache = prefilled.cache;
    else this.cache.joinRows!(prefilled.cache);
    this.running.push(...prefilled.rows);
  }

  /**
   * Runs the rows' prompts through the model together, left-padded to the longest with a mask that
   * hides the padding (in chunks, as `generate` does), and takes each row's first token. Returns the
   * filled cache with the rows that go on (those that ended or were cancelled meanwhile are left
   * out), or undefined when none does.
   */
  private async prefill(rows: BatchRow[]): Promise<{ cache: Cache; rows: BatchRow[] } | undefined> {
    const length = Math.max(...rows.map((row) => row.prompt.length));
    const padding = rows.map((row) => length - row.prompt.length);
    // Padding takes each row's first token: any id is fine under a mask of zeros.
    const prompts = rows.map((row, index) => [
      ...new Array<number>(padding[index]!).fill(row.prompt[0]!),
      ...row.prompt,
    ]);
    const masks = rows.map((row, index) => [
      ...new Array<number>(padding[index]!).fill(0),
      ...row.prompt.map(() => 1),
    ]);
    const maxLength = Math.max(...rows.map((row) => row.plan.maxLength));
    const chunkSize = Math.min(...rows.map((row) => row.plan.config.prefillChunkSize));
    const session = new CausalSession(this.model, masks, 'dynamic', maxLength);
    try {
      await session.prefill(prompts, chunkSize, async () => {
        await yieldToEventLoop();
        if (rows.every((row) => row.aborted))
          throw new GenerationAbortedError('every joining request was cancelled');
      });
      const logits = tf.tidy(() => session.nextLogits(prompts));
      try {
        const tokens = await selectTokens(rows, logits);
        rows.forEach((row, index) => {
          if (row.aborted) row.abort();
          row.cachedLength = row.prompt.length;
          this.accept(row, tokens[index]!);
        });
      } finally {
        logits.dispose();
      }
      const kept = rows.flatMap((row, index) => (row.ended ? [] : [index]));
      const cache = session.takeCache()!;
      if (kept.length === 0) {
        cache.dispose();
        return undefined;
      }
      if (kept.length < rows.length) cache.reorder(kept);
      return { cache, rows: kept.map((index) => rows[index]!) };
    } catch (error) {
      for (const row of rows) {
        if (row.aborted) row.abort();
        else row.fail(error);
      }
      return undefined;
    } finally {
      session.dispose();
    }
  }

  /** One forward over every running row (each feeds its last token), then each row's own choice. */
  private async decodeStep(): Promise<void> {
    const rows = this.running;
    const cache = this.cache!;
    try {
      // [rows, vocab]
      const logits = tf.tidy(() => lastPositionLogits(this.model.forwardLogits(decodeInputs(rows, cache))));
      let tokens: GeneratedToken[];
      try {
        tokens = await selectTokens(rows, logits);
      } finally {
        logits.dispose();
      }
      this.steps += 1;
      rows.forEach((row, index) => {
        row.cachedLength += 1;
        this.accept(row, tokens[index]!);
      });
    } catch (error) {
      // A failed step leaves the cache in an unknown state: every row of the batch fails with it.
      for (const row of rows) row.fail(error);
    }
  }

  private accept(row: BatchRow, token: GeneratedToken): void {
    if (row.ended) return;
    this.generatedTokens += 1;
    row.accept(token);
  }
}

/**
 * The inputs of one decode step: each row's last token at its own position (the real tokens it has
 * before it), and, when some rows are padded, a mask hiding each row's padding. Call inside a tidy.
 */
function decodeInputs(rows: readonly BatchRow[], cache: Cache): CausalLMForwardInputs {
  const length = cache.getSeqLength();
  const positions = rows.map((row) => row.cachedLength);
  const padded = positions.some((position) => position < length);
  const mask = padded
    ? tf.tensor2d(
        rows.flatMap((row) => [
          ...new Array<number>(length - row.cachedLength).fill(0),
          ...new Array<number>(row.cachedLength + 1).fill(1),
        ]),
        [rows.length, length + 1],
        'int32',
      )
    : undefined;
  return {
    inputIds: tf.tensor2d(
      rows.map((row) => row.lastToken),
      [rows.length, 1],
      'int32',
    ),
    positionIds: tf.tensor2d(positions, [rows.length, 1], 'int32'),
    maxPosition: Math.max(...positions),
    cache,
    logitsToKeep: 1,
    ...(mask && { attentionMask: mask }),
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new GenerationConfigError(name, `${name} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}

function closedError(): GenerationAbortedError {
  return new GenerationAbortedError('the batch scheduler was closed');
}
