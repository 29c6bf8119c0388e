import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '@tsformer/core-tensor';
import { type CausalLM, parseGenerationConfig } from '@tsformer/decoding';
import { fromPretrained, type PretrainedCausalLM } from '@tsformer/models';

interface Reference {
  atol: number;
  forward: { input_ids: number[][] }[];
  generate: { name: string; kwargs: object; input_ids: number[][]; sequences: number[][] }[];
}

/**
 * Backend parity of the bundled model against what transformers computed: the largest last-position
 * logit difference over every reference prompt, and whether every generate case gives HF's ids.
 * Run with the benchmarks so that a figure from a GPU server comes with proof the numbers are right.
 */
export async function checkBundledModelParity(folder: string) {
  const reference = JSON.parse(readFileSync(join(folder, 'reference.json'), 'utf8')) as Reference;
  const expected = await openSafetensors(join(folder, 'reference.safetensors'));
  const { model: loaded } = await fromPretrained(folder);
  const model = loaded as PretrainedCausalLM;
  let maxLogitDiff = 0;
  for (const [k, { input_ids }] of reference.forward.entries()) {
    const want = await expected.read(`forward.${k}.last_logits`);
    const largest = tf.tidy(() => {
      const logits = (model as CausalLM).forwardLogits({
        inputIds: tf.tensor2d(input_ids, undefined, 'int32'),
        logitsToKeep: 1,
      });
      return tf.max(tf.abs(tf.sub(tf.reshape(logits, [-1]), want)));
    });
    const diff = (await largest.data())[0]!;
    tf.dispose([largest, want]);
    maxLogitDiff = Math.max(maxLogitDiff, diff);
  }
  const generateCases = [];
  for (const testCase of reference.generate) {
    const { sequences } = await model.generateAll(
      { inputIds: testCase.input_ids },
      { generationConfig: parseGenerationConfig(testCase.kwargs) },
    );
    generateCases.push({
      name: testCase.name,
      identical: JSON.stringify(sequences) === JSON.stringify(testCase.sequences),
    });
  }
  model.dispose();
  return {
    model: 'tiny-llama-docs',
    atol: reference.atol,
    maxLastLogitDiff: maxLogitDiff,
    logitsWithinAtol: maxLogitDiff <= reference.atol,
    generateCases,
    generateIdentical: generateCases.every((c) => c.identical),
  };
}
