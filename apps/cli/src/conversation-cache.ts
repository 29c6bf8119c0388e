import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, CausalLMForwardInputs } from '@tsformer/decoding';

type Cache = ReturnType<CausalLM['createCache']>;

/**
 * A decoder-only model seen through a KV cache that outlives `generate` calls, so a chat feeds only
 * each turn's new tokens (Hugging Face's `generate(..., past_key_values=cache)`). `generate` sees an
 * ordinary CausalLM: the cache it asks for is a view of the kept one whose `dispose` keeps it, and
 * the first forward pass of a turn, given the whole conversation, is fed only what the cache lacks.
 */
export class ConversationModel implements CausalLM {
  /** The ids whose keys and values the cache holds, in order. */
  private cachedIds: number[] = [];
  /** Leading tokens of the next forward pass that the cache already holds. */
  private pendingSkip = 0;

  constructor(
    private readonly model: CausalLM,
    private readonly cache: Cache,
  ) {}

  get vocabSize(): number {
    return this.model.vocabSize;
  }

  get generationConfig(): CausalLM['generationConfig'] {
    return this.model.generationConfig;
  }

  /**
   * Before a turn: keeps the cache's longest prefix shared with `ids` (the whole conversation as the
   * model will read it) and drops the rest; at least one token is left to feed. Returns the tokens reused.
   */
  prepare(ids: readonly number[]): number {
    let shared = 0;
    const limit = Math.min(this.cachedIds.length, ids.length - 1);
    while (shared < limit && this.cachedIds[shared] === ids[shared]) shared += 1;
    if (shared < this.cache.getSeqLength()) this.cache.crop(shared);
    this.cachedIds = ids.slice(0, shared);
    this.pendingSkip = shared;
    return shared;
  }

  /** After a turn: `sequence` is what `generate` returned; the cache holds its first tokens. */
  record(sequence: readonly number[]): void {
    this.cachedIds = sequence.slice(0, this.cache.getSeqLength());
  }

  createCache(): Cache {
    const kept = this.cache;
    return {
      getSeqLength: (layerIndex) => kept.getSeqLength(layerIndex),
      crop: (length) => kept.crop(length),
      reorder: (indices) => kept.reorder(indices),
      bytes: () => kept.bytes(),
      dispose: () => {},
    };
  }

  forwardLogits(inputs: CausalLMForwardInputs): tf.Tensor3D {
    const skip = this.pendingSkip;
    this.pendingSkip = 0;
    const { inputIds, positionIds } = inputs;
    const [rows, given] = inputIds.shape;
    // [rows, given - skip]: the tokens the kept cache has not seen yet.
    const unseen = (ids: tf.Tensor2D) => (skip === 0 ? ids : tf.slice(ids, [0, skip], [rows, given - skip]));
    return this.model.forwardLogits({
      ...inputs,
      inputIds: unseen(inputIds),
      ...(positionIds && { positionIds: unseen(positionIds) }),
      cache: this.cache,
    });
  }
}
