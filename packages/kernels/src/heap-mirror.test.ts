import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { HeapMirror } from './heap-mirror.js';
import { SharedHeap } from './shared-heap.js';

describe.each(['wasm', 'cpu'] as const)('HeapMirror on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const valuesAt = (heap: SharedHeap, offset: number, count: number) =>
    Array.from(new Float32Array(heap.memory.buffer, offset, count));

  it('copies a tensor once while it lives, frees the copy once it is disposed, recopies a reassigned variable', async () => {
    await expectNoLeak(async () => {
      const heap = new SharedHeap();
      const mirror = new HeapMirror(heap);
      const kept = tf.tensor1d([1, 2, 3]);
      const dropped = tf.tensor1d([4, 5, 6, 7, 8]);
      const initial = tf.tensor1d([9, 10]);
      const replacement = tf.tensor1d([11, 12]);
      const variable = tf.variable(initial);
      const keptAt = mirror.offsetOf(kept);
      const droppedAt = mirror.offsetOf(dropped);
      mirror.offsetOf(variable);
      expect(valuesAt(heap, keptAt, 3)).toEqual([1, 2, 3]);
      expect(valuesAt(heap, droppedAt, 5)).toEqual([4, 5, 6, 7, 8]);
      expect(mirror.offsetOf(kept)).toBe(keptAt);
      expect(mirror.bytes()).toBe(4 * (3 + 5 + 2));

      dropped.dispose();
      const allocated = heap.allocatedBytes;
      mirror.sweep();
      expect(heap.allocatedBytes).toBeLessThan(allocated);
      expect(mirror.bytes()).toBe(4 * (3 + 2));

      variable.assign(replacement);
      expect(valuesAt(heap, mirror.offsetOf(variable), 2)).toEqual([11, 12]);

      mirror.clear();
      expect(heap.allocatedBytes).toBe(0);
      tf.dispose([kept, variable, initial, replacement]);
    });
  });

  it('frees the copies of disposed tensors as it goes: a tensor replaced on every call does not grow the heap', async () => {
    await expectNoLeak(async () => {
      const heap = new SharedHeap();
      const mirror = new HeapMirror(heap);
      const kept = Array.from({ length: 4 }, () => tf.ones([256]));
      for (const tensor of kept) mirror.offsetOf(tensor);
      let largest = 0;
      for (let call = 0; call < 200; call++) {
        const replaced = tf.ones([256]); // 1 KiB, like the last block a decode step replaces
        mirror.offsetOf(replaced);
        replaced.dispose();
        largest = Math.max(largest, heap.allocatedBytes);
      }
      // The 4 kept copies, the newest and at most 8 (MIN_COPIES_BETWEEN_SWEEPS) awaiting a sweep.
      expect(largest).toBeLessThanOrEqual((4 + 1 + 8) * 1024);
      mirror.clear();
      tf.dispose(kept);
    });
  });
});
