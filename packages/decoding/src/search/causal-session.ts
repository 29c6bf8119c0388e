import * as tf from '@tensorflow/tfjs-core';
import type { Cache } from '@tsformer/cache';
import type { TokenRows } from '../config/generation-options.js';
import type { CacheImplementation, CausalLM, CausalLMForwardInputs } from '../language-model.js';
import { lastPositionLogits, type ModelSession } from './model-session.js';

/**
 * A decoder-only model generating from (left-padded) prompts, as Hugging Face's
 * `prepare_inputs_for_generation`: the attention mask grows by a column of ones per step, position
 * ids are cumsum(mask) - 1 with padding set to 1, and only the tokens the cache has not seen are fed.
 */
export class CausalSession implements ModelSession {
  readonly vocabSize: number;
  private cache: Cache | undefined;
  /** False for a caller's cache (`GenerateOptions.cache`): it outlives this generation. */
  private readonly ownsCache: boolean;
  private promptMask: readonly (readonly number[])[];
  /** Whether any prompt has padding (else the model's default mask and positions are HF's). */
  private readonly padded: boolean;
  private cachedLength = 0;
  /** A fresh cache for this generation's rows (what an owned cache is replaced with when emptied). */
  private readonly freshCache: () => Cache;

  constructor(
    private readonly model: CausalLM,
    promptMask: TokenRows,
    /** How the cache stores keys; undefined: no cache (every step re-reads the whole sequence). */
    cacheImplementation: CacheImplementation | undefined,
    maxLength: number,
    /** A caller's cache already holding the first `getSeqLength()` prompt tokens: fed only the rest, kept. */
    callerCache?: Cache,
  ) {
    this.vocabSize = model.vocabSize;
    this.promptMask = promptMask;
    this.padded = promptMask.some((row) => row.includes(0));
    this.ownsCache = callerCache === undefined;
    this.freshCache = () => model.createCache(promptMask.length, maxLength, cacheImplementation);
    this.cache = callerCache ?? (cacheImplementation === undefined ? undefined : this.freshCache());
    this.cachedLength = callerCache?.getSeqLength() ?? 0;
  }

  nextLogits(sequences: TokenRows): tf.Tensor2D {
    return lastPositionLogits(this.feed(sequences, sequences[0]!.length));
  }

  /**
   * Chunked prefill (Hugging Face's `_prefill_chunking`): while more than `chunkSize` prompt tokens
   * are unseen, feeds the next `chunkSize` of them to the cache in a `tf.tidy` of its own, so that
   * memory holds the attention of one chunk rather than of the whole prompt; the first step feeds
   * the rest (1 to `chunkSize` tokens). `between` runs after each chunk (the generation's chance to
   * yield and stop). Without a cache there is nothing to fill.
   */
  async prefill(prompts: TokenRows, chunkSize: number, between: () => Promise<void>): Promise<void> {
    if (this.cache === undefined) return;
    const length = prompts[0]!.length;
    while (length - this.cachedLength > chunkSize) {
      const chunkEnd = this.cachedLength + chunkSize;
      tf.tidy(() => {
        this.feed(prompts, chunkEnd);
      });
      await between();
    }
  }

  /** Runs the model on the tokens of `sequences` the cache lacks, up to `length`: logits of the last one. */
  private feed(sequences: TokenRows, length: number): tf.Tensor3D {
    if (
      this.cache &&
      this.cachedLength > 0 &&
      this.model.reusesCache?.(this.cachedLength, length) === false
    ) {
      this.emptyCache();
    }
    const start = this.cache === undefined ? 0 : this.cachedLength;
    const newTokens = length - start;
    const inputIds = tf.tensor2d(
      sequences.map((row) => row.slice(start, length)),
      [sequences.length, newTokens],
      'int32',
    );
    const cache = this.cache === undefined ? {} : { cache: this.cache };
    if (!this.padded) {
      // Without padding, HF's mask is all ones and its positions are 0, 1, …: the model's own
      // defaults, which also let it skip building a mask on decode steps.
      return this.forward({ inputIds, logitsToKeep: 1, ...cache }, length);
    }
    const mask = this.promptMask.map((row) =>
      length <= row.length
        ? row.slice(0, length)
        : [...row, ...new Array<number>(length - row.length).fill(1)],
    );
    const positions = mask.map((row) => positionIds(row).slice(start));
    const inputs: CausalLMForwardInputs = {
      inputIds,
      attentionMask: tf.tensor2d(mask, [mask.length, length], 'int32'),
      positionIds: tf.tensor2d(positions, [positions.length, newTokens], 'int32'),
      maxPosition: Math.max(...positions.flat()),
      logitsToKeep: 1,
      ...cache,
    };
    return this.forward(inputs, length);
  }

  private forward(inputs: CausalLMForwardInputs, length: number): tf.Tensor3D {
    const logits = this.model.forwardLogits(inputs);
    this.cachedLength = length;
    return logits;
  }

  /**
   * Forgets every cached token, so this step feeds the whole sequence: an owned cache is replaced by a
   * fresh one (as HF starts a new cache), a caller's is cropped to nothing and stays the caller's.
   */
  private emptyCache(): void {
    if (this.ownsCache) {
      this.cache?.dispose();
      this.cache = this.freshCache();
    } else {
      this.cache?.crop(0);
    }
    this.cachedLength = 0;
  }

  reorder(rowIndices: readonly number[]): void {
    this.promptMask = rowIndices.map((row) => this.promptMask[row]!);
    this.cache?.reorder(rowIndices);
  }

  /**
   * Hands the cache this session filled over to the caller, who owns it from then on (the batching
   * scheduler merges a prefilled request into its running batch); the session is left without one.
   */
  takeCache(): Cache | undefined {
    const cache = this.cache;
    this.cache = undefined;
    return cache;
  }

  dispose(): void {
    if (this.ownsCache) this.cache?.dispose();
  }
}

/** Hugging Face's position ids for one row of an attention mask: cumsum - 1, with 1 at padding. */
function positionIds(mask: readonly number[]): number[] {
  let seen = 0;
  return mask.map((bit) => {
    seen += bit;
    return bit === 0 ? 1 : seen - 1;
  });
}
