import type { Cache } from '@tsformer/cache';

/**
 * A chat's KV cache across turns (Hugging Face's `past_key_values` kept between `generate` calls).
 * Before each turn it keeps the longest prefix it shares with the conversation as the model will read
 * it; `generate(..., { cache })` then feeds only the rest.
 */
export class ConversationCache {
  /** The ids whose keys and values the cache holds, in order. */
  private cachedIds: number[] = [];

  constructor(readonly cache: Cache) {}

  /**
   * Before a turn: keeps the cache's longest prefix shared with `ids` (the whole conversation) and drops
   * the rest; at least one token is left to feed. A sliding-window cache that already dropped tokens
   * the new turn would need starts over instead. Returns the tokens reused.
   */
  prepare(ids: readonly number[]): number {
    let shared = 0;
    const limit = Math.min(this.cachedIds.length, ids.length - 1);
    while (shared < limit && this.cachedIds[shared] === ids[shared]) shared += 1;
    if (shared < this.cache.minCropLength()) shared = 0;
    if (shared < this.cache.getSeqLength()) this.cache.crop(shared);
    this.cachedIds = ids.slice(0, shared);
    return shared;
  }

  /** After a turn: `sequence` is what `generate` returned; the cache holds its first tokens. */
  record(sequence: readonly number[]): void {
    this.cachedIds = sequence.slice(0, this.cache.getSeqLength());
  }
}
