import * as tf from '@tensorflow/tfjs-core';
import type { Seq2SeqLM } from '@tsformer/decoding';
import { fromPretrained } from '@tsformer/models';
import { peakRssMiB } from './machine.js';
import { round } from './measure.js';

/**
 * Encoder tokens/s (one encoder pass over `sourceTokens`) and decoder tokens/s (`newTokens` greedy steps
 * through the encoder-decoder cache, cross-attention keys computed once) of a seq2seq model folder.
 */
export async function measureSeq2Seq(folder: string, sourceTokens: number, newTokens: number) {
  const { model: loaded } = await fromPretrained(folder);
  const model = loaded as unknown as Seq2SeqLM & { numParameters(): number; dispose(): void };
  const source = tf.tensor2d(
    [Array.from({ length: sourceTokens }, (_, i) => 4 + (i % 1000))],
    undefined,
    'int32',
  );
  const encodeOnce = () => tf.tidy(() => tf.keep(model.encode(source).lastHiddenState));
  encodeOnce().dispose(); // warm-up
  const encodeStart = performance.now();
  const encoded = encodeOnce();
  await encoded.data();
  const encodeMs = performance.now() - encodeStart;

  const cache = model.createCache(1, newTokens + 1);
  let next = tf.tensor2d([[2]], [1, 1], 'int32');
  const decodeStart = performance.now();
  for (let i = 0; i < newTokens; i++) {
    const input = next;
    next = tf.tidy(() => {
      const logits = model.decodeLogits({
        decoderInputIds: input,
        encoderHiddenStates: encoded,
        cache,
        logitsToKeep: 1,
      });
      return tf.cast(tf.reshape(tf.argMax(logits, -1), [1, 1]), 'int32') as tf.Tensor2D;
    });
    input.dispose();
    await next.data();
  }
  const decodeMs = performance.now() - decodeStart;
  next.dispose();
  cache.dispose();
  encoded.dispose();
  source.dispose();
  const parameters = model.numParameters();
  model.dispose();
  return {
    model: 'bart-base-random-fp32',
    parameters,
    sourceTokens,
    newTokens,
    encoderMs: round(encodeMs),
    encoderTokensPerSecond: round((sourceTokens * 1000) / encodeMs),
    decodeTokensPerSecond: round((newTokens * 1000) / decodeMs),
    decodeStepMs: round(decodeMs / newTokens),
    peakRssMiB: peakRssMiB(),
  };
}
