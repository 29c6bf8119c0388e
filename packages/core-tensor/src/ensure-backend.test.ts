import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ensureBackend } from './backend.js';

// Its own file (its own process): nothing has registered a backend before these tests.
describe('ensureBackend', () => {
  it('activates the default backend when none is registered, where tfjs alone finds none', async () => {
    expect(tf.engine().backendNames()).toEqual([]);
    expect(() => tf.tensor([1])).toThrow(/No backend found in registry/);
    await ensureBackend();
    expect(tf.getBackend()).toBe('wasm');
    const sum = tf.add(tf.tensor([1, 2]), 1);
    expect(Array.from(await sum.data())).toEqual([2, 3]);
    tf.dispose(sum);
  });

  it('keeps the backend that is already active', async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    await ensureBackend();
    expect(tf.getBackend()).toBe('cpu');
  });
});
