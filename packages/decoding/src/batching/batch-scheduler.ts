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

/**
 * Decode steps a finished request's row stays in the batch cache as a vacant slot, so that a request
 * arriving meanwhile takes its place in one copy of the cache (instead of one copy to remove the row
 * and another to join). A vacant slot costs about one row of each step's forward; one still vacant
 * after this many steps is taken out of the cache.
 */
const VACANT_STEPS = 3;

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
 * are merged into the batch's (`Cache.joinRows`, left-padded), taking the slots of rows that ended
 * first; every decode step then feeds each row its last token with its own position and an attention
 * mask that hides the padding. A row that ends or is cancelled leaves a vacant slot at the next step
 * (fed a token that attends only to itself, its output unused) until a joining request takes it, or
 * until `VACANT_STEPS` steps have passed and the slots still vacant are taken out (`Cache.reorder`);
 * padding no row needs any more is dropped (`Cache.dropStart`) once it is a quarter of the cache.
 * Each request is greedy search or sampling with its own parameters, processors, stopping criteria
 * and seed, so its tokens are those `generate` gives for it alone: rows never influence each other.
 */
export class BatchScheduler {
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly waiting: BatchRow[] = [];
  /** The batch's rows: a running request, or undefined where one ended and left its slot vacant. */
  private slots: (BatchRow | undefined)[] = [];
  /** The decode step at which each vacant slot was vacated (indexed as `slots`). */
  private vacantSince: number[] = [];
  /** The batch's cache: row i belongs to `slots[i]`. */
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
      running: this.running().length,
      steps: this.steps,
      generatedTokens: this.generatedTokens,
    };
  }

  /** Fails every waiting and running request (GenerationAbortedError) and frees the batch's cache. */
  async close(): Promise<void> {
    this.closed = true;
    for (const row of [...this.waiting, ...this.running()]) row.fail(closedError());
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

  /** The requests in the batch, in slot order. */
  private running(): BatchRow[] {
    return this.slots.filter((row) => row !== undefined);
  }

  /** Steps the batch until no request is running or waiting. */
  private async run(): Promise<void> {
    try {
      while (this.running().length > 0 || this.waiting.length > 0) {
        await yieldToEventLoop();
        this.vacateEndedRows();
        await this.admitWaitingRows();
        this.removeVacantSlots();
        if (this.running().length > 0) await this.decodeStep();
      }
      this.vacateEndedRows();
    } finally {
      this.loop = undefined;
    }
  }

  /**
   * Rows that ended, failed or were cancelled leave their slots vacant; the cache goes when every slot
   * is, and padding every remaining row has is dropped once it is a good part of the cache.
   */
  private vacateEndedRows(): void {
    let vacated = false;
    this.slots.forEach((row, index) => {
      if (row?.aborted) row.abort();
      if (!row?.ended) return;
      this.slots[index] = undefined;
      this.vacantSince[index] = this.steps;
      vacated = true;
    });
    if (!vacated) return;
    if (this.running().length === 0) {
      this.slots = [];
      this.vacantSince = [];
      this.cache?.dispose();
      this.cache = undefined;
      return;
    }
    this.dropSharedPadding();
  }

  /** Takes out of the cache the slots left vacant for `VACANT_STEPS` decode steps (with any other vacant ones). */
  private removeVacantSlots(): void {
    const stale = this.slots.some(
      (row, index) => row === undefined && this.steps - this.vacantSince[index]! >= VACANT_STEPS,
    );
    if (!stale) return;
    const kept = this.slots.flatMap((row, index) => (row === undefined ? [] : [index]));
    this.cache!.reorder(kept);
    this.slots = kept.map((index) => this.slots[index]!);
    this.vacantSince = [];
  }

  /**
   * Masked padding costs a step little; dropping it copies the front of every layer. Padding every
   * running row has is dropped once it is a good part of the cache, so that the cache stays within a
   * bound of what the rows need (vacant slots attend to no cached position).
   */
  private dropSharedPadding(): void {
    const length = this.cache!.getSeqLength();
    const sharedPadding = Math.min(...this.running().map((row) => length - row.cachedLength));
    if (sharedPadding > 0 && sharedPadding * DROP_PADDING_SHARE >= length)
      this.cache!.dropStart!(sharedPadding);
  }

  /**
   * Waiting requests take the free rows: they are prefilled together (one forward, as `generate`
   * prefills a batch of left-padded prompts), then their cache rows join the batch's, vacant slots
   * first.
   */
  private async admitWaitingRows(): Promise<void> {
    const free = this.maxBatch - this.running().length;
    if (free <= 0 || this.waiting.length === 0) return;
    const joining = this.waiting.splice(0, free);
    const prefilled = await this.prefill(joining);
    if (prefilled === undefined) return;
    const vacant = this.slots.flatMap((row, index) => (row === undefined ? [index] : []));
    const places = prefilled.rows.map(
      (_, index) => vacant[index] ?? this.slots.length + index - vacant.length,
    );
    if (this.cache === undefined) this.cache = prefilled.cache;
    else this.cache.joinRows!(prefilled.cache, places);
    prefilled.rows.forEach((row, index) => {
      this.slots[places[index]!] = row;
    });
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

  /**
   * One forward over every slot (each running row feeds its last token, a vacant slot a token that
   * attends only to itself), then each running row's own choice.
   */
  private async decodeStep(): Promise<void> {
    const slots = this.slots;
    const rows = this.running();
    const cache = this.cache!;
    try {
      // [rows, vocab]: the running rows' logits (a vacant slot's are left out).
      const logits = tf.tidy(() => {
        const all = lastPositionLogits(this.model.forwardLogits(decodeInputs(slots, cache)));
        if (rows.length === slots.length) return all;
        const live = slots.flatMap((row, index) => (row === undefined ? [] : [index]));
        return tf.gather(all, tf.tensor1d(live, 'int32'));
      });
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
 * before it), and, when some rows are padded, a mask hiding each row's padding. A vacant slot feeds
 * token 0 at position 0 under a mask that shows it only its own new position. Call inside a tidy.
 */
function decodeInputs(slots: readonly (BatchRow | undefined)[], cache: Cache): CausalLMForwardInputs {
  const length = cache.getSeqLength();
  const positions = slots.map((row) => row?.cachedLength ?? 0);
  const padded = positions.some((position) => position < length);
  const mask = padded
    ? tf.tensor2d(
        slots.flatMap((row) => {
          const visible = row === undefined ? 0 : row.cachedLength;
          return [...new Array<number>(length - visible).fill(0), ...new Array<number>(visible + 1).fill(1)];
        }),
        [slots.length, length + 1],
        'int32',
      )
    : undefined;
  return {
    inputIds: tf.tensor2d(
      slots.map((row) => row?.lastToken ?? 0),
      [slots.length, 1],
      'int32',
    ),
    positionIds: tf.tensor2d(positions, [slots.length, 1], 'int32'),
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
