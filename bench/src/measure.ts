import * as tf from '@tensorflow/tfjs-core';
import type { CacheImplementation, CausalLM } from '@tsformer/decoding';
import { peakRssMiB } from './machine.js';

export interface DecodeFigures {
  cache: CacheImplementation;
  promptTokens: number;
  newTokens: number;
  batch: number;
  /** Prefill of the whole prompt through the first chosen token, downloaded. */
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  /** Steady decoding: one token per row per step, each step a forward + argmax + one small download. */
  decodeTokensPerSecond: number;
  decodeStepMs: number;
  peakRssMiB: number;
  tensorsAliveAfter: number;
}

/**
 * Measures the model's forward alone (no logits processors, no generation bookkeeping): a prefill
 * of `promptTokens` then `newTokens` greedy steps through the model's own cache.
 */
export async function measureForwardDecode(
  model: CausalLM,
  promptIds: number[],
  newTokens: number,
  batch = 1,
  cacheImplementation: CacheImplementation = 'dynamic',
): Promise<DecodeFigures> {
  const tensorsBefore = tf.memory().numTensors;
  const cache = model.createCache(batch, promptIds.length + newTokens, cacheImplementation);
  const prompt = tf.tensor2d(
    Array.from({ length: batch }, () => promptIds),
    [batch, promptIds.length],
    'int32',
  );
  const step = (inputIds: tf.Tensor2D) =>
    tf.tidy(() => {
      const logits = model.forwardLogits({ inputIds, cache, logitsToKeep: 1 }); // [batch, 1, vocab]
      return tf.cast(tf.reshape(tf.argMax(logits, -1), [batch, 1]), 'int32') as tf.Tensor2D;
    });

  const start = performance.now();
  let next = step(prompt);
  let ids = await next.data();
  const timeToFirstTokenMs = performance.now() - start;
  prompt.dispose();

  const decodeStart = performance.now();
  for (let i = 1; i < newTokens; i++) {
    const input = next;
    next = step(input);
    input.dispose();
    ids = await next.data();
  }
  const decodeMs = performance.now() - decodeStart;
  next.dispose();
  cache.dispose();
  void ids;
  const decodeSteps = Math.max(1, newTokens - 1);
  return {
    cache: cacheImplementation,
    promptTokens: promptIds.length,
    newTokens,
    batch,
    timeToFirstTokenMs: round(timeToFirstTokenMs),
    prefillTokensPerSecond: round((batch * promptIds.length * 1000) / timeToFirstTokenMs),
    decodeTokensPerSecond: round((batch * decodeSteps * 1000) / decodeMs),
    decodeStepMs: round(decodeMs / decodeSteps),
    peakRssMiB: peakRssMiB(),
    tensorsAliveAfter: tf.memory().numTensors - tensorsBefore,
  };
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** `count` token ids cycling through a text's ids (a prompt of an exact length). */
export function promptOfLength(seedIds: readonly number[], count: number): number[] {
  return Array.from({ length: count }, (_, i) => seedIds[i % seedIds.length]!);
}
