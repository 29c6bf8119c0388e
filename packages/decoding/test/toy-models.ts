import * as tf from '@tensorflow/tfjs-core';
import type { Cache } from '@tsformer/cache';
import { SeededRandom } from '@tsformer/core-tensor';
import {
  type CausalLM,
  type CausalLMForwardInputs,
  type GenerationOptions,
  type PositionLimit,
  releaseGenerations,
  type Seq2SeqEncoding,
  type Seq2SeqForwardInputs,
  type Seq2SeqLM,
} from '../src/index.js';

/**
 * Toy language models whose logits come from fixed random tables, so that tests can recompute them
 * in plain JavaScript. The logit of token v after the t-th token (absolute position p) is
 *   token[x_t][v] + position[p][v] + history[h_t mod 7][v] (+ context[c mod 7][v] for seq2seq)
 * summed in that order in float32, where h_t is the sum of (x_s + 1) over the real (unmasked) tokens
 * s ≤ t and c the same sum over the real source tokens. Depending on the whole masked history makes
 * the cache, the attention mask and the position ids all matter.
 */
export const HISTORY_MODULUS = 7;
const MAX_POSITIONS = 64;

export interface ToyTables {
  readonly vocabSize: number;
  readonly token: Float32Array[];
  readonly position: Float32Array[];
  readonly history: Float32Array[];
  readonly context: Float32Array[];
}

export function toyTables(vocabSize: number, seed: number, scale = 2): ToyTables {
  const random = new SeededRandom(seed);
  const table = (rows: number) => Array.from({ length: rows }, () => random.normalArray(vocabSize, scale));
  return {
    vocabSize,
    token: table(vocabSize),
    position: table(MAX_POSITIONS),
    history: table(HISTORY_MODULUS),
    context: table(HISTORY_MODULUS),
  };
}

/** The reference: next-token logits (float32 values, as numbers) for one row, in plain JavaScript. */
export function referenceLogits(
  tables: ToyTables,
  tokens: readonly number[],
  mask: readonly number[] = tokens.map(() => 1),
  sourceSum?: number,
): number[] {
  let history = 0;
  let realTokens = 0;
  tokens.forEach((token, i) => {
    history += (token + 1) * mask[i]!;
    realTokens += mask[i]!;
  });
  const last = tokens[tokens.length - 1]!;
  const position = mask[mask.length - 1] === 0 ? 1 : realTokens - 1;
  return Array.from({ length: tables.vocabSize }, (_, v) => {
    let logit = Math.fround(tables.token[last]![v]! + tables.position[position]![v]!);
    logit = Math.fround(logit + tables.history[history % HISTORY_MODULUS]![v]!);
    if (sourceSum !== undefined)
      logit = Math.fround(logit + tables.context[sourceSum % HISTORY_MODULUS]![v]!);
    return logit;
  });
}

/** log-softmax in float64. */
export function logSoftmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const logSum = max + Math.log(logits.reduce((sum, x) => sum + Math.exp(x - max), 0));
  return logits.map((x) => x - logSum);
}

/** A cache of the token ids seen so far, `[rows, length]` int32: what the toy models attend to. */
export class ToyCache implements Cache {
  tokens: tf.Tensor2D | undefined;
  reorders = 0;

  constructor(readonly maxLength: number) {}

  /** Appends `[rows, n]` ids and returns the whole history; call inside the forward's tidy. */
  extend(newTokens: tf.Tensor2D): tf.Tensor2D {
    const all = this.tokens === undefined ? newTokens : tf.concat([this.tokens, newTokens], 1);
    if (all.shape[1] > this.maxLength)
      throw new Error(`toy cache overflow: ${all.shape[1]} > ${this.maxLength}`);
    this.tokens?.dispose();
    this.tokens = tf.keep(tf.clone(all));
    return all;
  }

  getSeqLength(): number {
    return this.tokens?.shape[1] ?? 0;
  }

  crop(length: number): void {
    if (this.tokens === undefined) return;
    const cropped = tf.keep(tf.slice(this.tokens, [0, 0], [-1, length]));
    this.tokens.dispose();
    this.tokens = cropped;
  }

  reorder(indices: tf.Tensor1D): void {
    this.reorders += 1;
    if (this.tokens === undefined) return;
    const reordered = tf.keep(tf.gather(this.tokens, indices));
    this.tokens.dispose();
    this.tokens = reordered;
  }

  canJoinRows(): boolean {
    return true;
  }

  /**
   * Puts the rows of `other` in the places `rows` names (continuous batching: a held row replaced, or
   * appended; default all appended), left-padding the shorter with id 0.
   */
  joinRows(other: Cache, rows?: readonly number[]): void {
    const joining = (other as ToyCache).tokens;
    if (joining === undefined) throw new Error('toy cache: nothing to join');
    if (this.tokens === undefined) {
      this.tokens = joining;
    } else {
      const length = Math.max(this.tokens.shape[1], joining.shape[1]);
      const padded = (tokens: tf.Tensor2D) =>
        tf.pad(tokens, [
          [0, 0],
          [length - tokens.shape[1], 0],
        ]);
      const held = this.tokens.shape[0];
      const targets = rows ?? Array.from({ length: joining.shape[0] }, (_, index) => held + index);
      const rowCount = Math.max(held, ...targets.map((target) => target + 1));
      // Row r of the result: joining row j (after the held ones) where targets[j] = r, else held row r.
      const sources = Array.from({ length: rowCount }, (_, row) =>
        targets.includes(row) ? held + targets.indexOf(row) : row,
      );
      const joined = tf.keep(
        tf.tidy(() =>
          tf.gather(tf.concat([padded(this.tokens!), padded(joining)], 0), tf.tensor1d(sources, 'int32')),
        ),
      );
      this.tokens.dispose();
      joining.dispose();
      this.tokens = joined;
    }
    (other as ToyCache).tokens = undefined;
  }

  dropStart(count: number): void {
    if (this.tokens === undefined || count === 0) return;
    const kept = tf.keep(tf.slice(this.tokens, [0, count], [-1, -1]));
    this.tokens.dispose();
    this.tokens = kept;
  }

  bytes(): number {
    return (this.tokens?.size ?? 0) * 4;
  }

  dispose(): void {
    this.tokens?.dispose();
    this.tokens = undefined;
  }
}

/** Logits `[rows, kept, vocab]` for the last `kept` of `history` `[rows, length]` under `mask`. */
function toyLogits(
  tables: ToyTables,
  history: tf.Tensor2D,
  mask: tf.Tensor2D,
  positionIds: tf.Tensor2D,
  kept: number,
): tf.Tensor3D {
  const tensor = (rows: Float32Array[]) =>
    tf.tensor2d(
      rows.flatMap((row) => Array.from(row)),
      [rows.length, tables.vocabSize],
    );
  const length = history.shape[1];
  const lastTokens = tf.slice(history, [0, length - kept], [-1, kept]);
  const one = tf.scalar(1, 'int32');
  const modulus = tf.scalar(HISTORY_MODULUS, 'int32');
  const histories = tf.mod(tf.cumsum(tf.mul(tf.add(history, one), mask), 1), modulus);
  const lastHistories = tf.slice(histories, [0, length - kept], [-1, kept]);
  const positions = tf.slice(positionIds, [0, positionIds.shape[1] - kept], [-1, kept]);
  return tf.add(
    tf.add(tf.gather(tensor(tables.token), lastTokens), tf.gather(tensor(tables.position), positions)),
    tf.gather(tensor(tables.history), lastHistories),
  ) as tf.Tensor3D;
}

/** What a toy model may be given beyond its tables and generation defaults. */
export interface ToyOptions {
  /** Where its positions end, as a real model tells (the tables hold 64 positions). */
  readonly positionLimit?: PositionLimit;
  /** Runs at the start of every forward (call number from 1): lets a test act mid-generation. */
  readonly onForward?: (call: number) => void;
  /** Keeps the CPU busy this many milliseconds per forward, as a real model's forward does. */
  readonly busyMsPerForward?: number;
}

export class ToyCausalLM implements CausalLM {
  readonly vocabSize: number;
  readonly positionLimit: PositionLimit | undefined;
  forwardCalls = 0;
  /** Tokens fed per forward, in order (chunked prefill shows here). */
  readonly fedLengths: number[] = [];
  lastCache: ToyCache | undefined;

  constructor(
    readonly tables: ToyTables,
    readonly generationConfig?: GenerationOptions,
    private readonly options: ToyOptions = {},
  ) {
    this.vocabSize = tables.vocabSize;
    this.positionLimit = options.positionLimit;
  }

  forwardLogits(inputs: CausalLMForwardInputs): tf.Tensor3D {
    this.forwardCalls += 1;
    this.fedLengths.push(inputs.inputIds.shape[1]);
    this.options.onForward?.(this.forwardCalls);
    busyWait(this.options.busyMsPerForward ?? 0);
    const cache = inputs.cache as ToyCache | undefined;
    const history = cache === undefined ? inputs.inputIds : cache.extend(inputs.inputIds);
    const [rows, length] = history.shape;
    const mask = inputs.attentionMask ?? tf.ones([rows, length], 'int32');
    const fed = inputs.inputIds.shape[1];
    const positionIds =
      inputs.positionIds ??
      tf.tile(tf.reshape(tf.range(length - fed, length, 1, 'int32'), [1, fed]), [rows, 1]);
    return toyLogits(
      this.tables,
      history,
      mask as tf.Tensor2D,
      positionIds as tf.Tensor2D,
      inputs.logitsToKeep ?? fed,
    );
  }

  createCache(_batchSize: number, maxLength: number): ToyCache {
    this.lastCache = new ToyCache(maxLength);
    return this.lastCache;
  }

  /** As the model classes' `dispose()`: frees the generations still alive on the model. */
  dispose(): void {
    releaseGenerations(this);
  }
}

function busyWait(milliseconds: number): void {
  const end = performance.now() + milliseconds;
  while (performance.now() < end) {
    // A forward pass's worth of synchronous work: nothing else runs meanwhile.
  }
}

export class ToySeq2SeqLM implements Seq2SeqLM {
  readonly vocabSize: number;
  readonly positionLimit: PositionLimit | undefined;

  constructor(
    readonly tables: ToyTables,
    readonly generationConfig?: GenerationOptions,
    options: Pick<ToyOptions, 'positionLimit'> = {},
  ) {
    this.vocabSize = tables.vocabSize;
    this.positionLimit = options.positionLimit;
  }

  /** One hidden feature per source token: its id + 1, zeroed under the mask. */
  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): Seq2SeqEncoding {
    const mask = attentionMask ?? tf.onesLike(inputIds);
    return {
      lastHiddenState: tf.expandDims(
        tf.cast(tf.mul(tf.add(inputIds, tf.scalar(1, 'int32')), mask), 'float32'),
        2,
      ) as tf.Tensor3D,
    };
  }

  decodeLogits(inputs: Seq2SeqForwardInputs): tf.Tensor3D {
    const cache = inputs.cache as ToyCache | undefined;
    const history = cache === undefined ? inputs.decoderInputIds : cache.extend(inputs.decoderInputIds);
    const [rows, length] = history.shape;
    const kept = inputs.logitsToKeep ?? inputs.decoderInputIds.shape[1];
    const positions = tf.tile(tf.reshape<tf.Rank.R2>(tf.range(0, length, 1, 'int32'), [1, length]), [
      rows,
      1,
    ]);
    const decoder = toyLogits(this.tables, history, tf.ones([rows, length], 'int32'), positions, kept);
    const hidden = inputs.encoderHiddenStates;
    const sourceMask = inputs.encoderAttentionMask ?? tf.ones([hidden.shape[0], hidden.shape[1]], 'int32');
    const sourceSum = tf.cast(
      tf.sum(tf.mul(tf.squeeze(hidden, [2]), tf.cast(sourceMask, 'float32')), 1),
      'int32',
    );
    const contextTable = tf.tensor2d(
      this.tables.context.flatMap((row) => Array.from(row)),
      [HISTORY_MODULUS, this.vocabSize],
    );
    const context = tf.expandDims(
      tf.gather(contextTable, tf.mod(sourceSum, tf.scalar(HISTORY_MODULUS, 'int32'))),
      1,
    ); // [rows, 1, vocab]
    return tf.add(decoder, context) as tf.Tensor3D;
  }

  createCache(_batchSize: number, maxLength: number): ToyCache {
    return new ToyCache(maxLength);
  }

  /** As the model classes' `dispose()`: frees the generations still alive on the model. */
  dispose(): void {
    releaseGenerations(this);
  }
}

/** A byte-level decoder: each token stands for some UTF-8 bytes; `special` ids are dropped on request. */
export class ByteDecoder {
  constructor(
    private readonly bytesOf: readonly (readonly number[])[],
    private readonly special: readonly number[] = [],
  ) {}

  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string {
    const kept = options?.skipSpecialTokens ? ids.filter((id) => !this.special.includes(id)) : ids;
    return new TextDecoder('utf-8').decode(
      new Uint8Array(kept.flatMap((id) => [...(this.bytesOf[id] ?? [])])),
    );
  }
}
