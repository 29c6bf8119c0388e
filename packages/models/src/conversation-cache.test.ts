import * as tf from '@tensorflow/tfjs-core';
import { DynamicCache, type LayerCache, LayeredCache, SlidingWindowLayerCache } from '@tsformer/cache';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConversationCache } from './conversation-cache.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Feeds `count` tokens' keys and values to every layer, as a forward pass would. */
function feed(cache: LayeredCache<LayerCache>, count: number): void {
  tf.tidy(() => {
    for (let layer = 0; layer < cache.numLayers; layer++) {
      const keyValue = tf.ones([1, 1, count, 2]) as tf.Tensor4D;
      cache.layer(layer).update(keyValue, keyValue);
    }
  });
}

describe('ConversationCache', () => {
  it('keeps the prefix a new turn shares with the last one', async () => {
    await expectNoLeak(() => {
      const cache = new DynamicCache(2);
      const conversation = new ConversationCache(cache);
      expect(conversation.prepare([1, 2, 3])).toBe(0);
      feed(cache, 5);
      conversation.record([1, 2, 3, 4, 5]);
      expect(conversation.prepare([1, 2, 3, 4, 5, 6, 7])).toBe(5);
      expect(conversation.prepare([1, 2, 9, 9])).toBe(2);
      expect(cache.getSeqLength()).toBe(2);
      cache.dispose();
    });
  });

  it('starts over when a sliding window already dropped tokens the new turn needs', async () => {
    await expectNoLeak(() => {
      const cache = new LayeredCache<LayerCache>(2, (layer) =>
        layer === 0 ? new SlidingWindowLayerCache(4) : new SlidingWindowLayerCache(100),
      );
      const conversation = new ConversationCache(cache);
      feed(cache, 8);
      conversation.record([1, 2, 3, 4, 5, 6, 7, 8]);
      // The oldest turn was dropped: only the first 2 tokens are still shared, below what layer 0 can keep.
      expect(conversation.prepare([1, 2, 7, 8, 9])).toBe(0);
      expect(cache.getSeqLength()).toBe(0);
      // Continuing the same conversation is a no-op crop: everything is reused.
      feed(cache, 8);
      conversation.record([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(conversation.prepare([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBe(8);
      cache.dispose();
    });
  });
});
