import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../test/read-safetensors.js';
import { EpsilonLogitsWarper } from './epsilon.js';
import { EtaLogitsWarper } from './eta.js';
import { applyLogitsProcessors, type LogitsProcessor } from './logits-processor.js';
import { MinLengthLogitsProcessor } from './min-length.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { SuppressTokensLogitsProcessor } from './suppress-tokens.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';
import { TypicalLogitsWarper } from './typical.js';

const fixture = readSafetensors(
  fileURLToPath(
    new URL('../../../../fixtures/hf-reference/processors/reference.safetensors', import.meta.url),
  ),
);

/** Each processor (chain) Hugging Face applied to `processors.scores`, by its fixture name. */
const CASES: Record<string, () => LogitsProcessor[]> = {
  'temperature_0.7': () => [new TemperatureLogitsWarper(0.7)],
  top_k_5: () => [new TopKLogitsWarper(5)],
  'top_p_0.8': () => [new TopPLogitsWarper(0.8)],
  'min_p_0.1': () => [new MinPLogitsWarper(0.1)],
  'typical_0.9': () => [new TypicalLogitsWarper(0.9)],
  'epsilon_0.02': () => [new EpsilonLogitsWarper(0.02)],
  'eta_0.05': () => [new EtaLogitsWarper(0.05)],
  'repetition_penalty_1.3': () => [new RepetitionPenaltyLogitsProcessor(1.3)],
  no_repeat_ngram_2: () => [new NoRepeatNGramLogitsProcessor(2)],
  min_length_10_eos3: () => [new MinLengthLogitsProcessor(10, 3)],
  suppress_1_2: () => [new SuppressTokensLogitsProcessor([1, 2])],
  'top_k_5_then_top_p_0.8_temp_0.7': () => [
    new TopKLogitsWarper(5),
    new TopPLogitsWarper(0.8),
    new TemperatureLogitsWarper(0.7),
  ],
};

function tensorOf(name: string): { shape: number[]; values: number[] } {
  const tensor = fixture.get(`processors.${name}`);
  if (tensor === undefined) throw new Error(`fixture has no processors.${name}`);
  return tensor;
}

describe('logits processors match Hugging Face (fixtures/hf-reference/processors)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const ids = tensorOf('input_ids');
  const inputIds = [ids.values.slice(0, 7), ids.values.slice(7, 14)];
  const scores = tensorOf('scores');

  it.each(Object.keys(CASES))('%s', async (name) => {
    await expectNoLeak(() => {
      const input = tf.tensor2d(scores.values, [2, 64], 'float32');
      const output = tf.tidy(() => applyLogitsProcessors(CASES[name]!(), inputIds, input));
      assertClose(output, tensorOf(name).values, 1e-5, name);
      assertClose(input, scores.values, 0, `${name} input`);
      tf.dispose([input, output]);
    });
  });

  it('covers every processor the fixture holds', () => {
    const names = [...fixture.keys()].map((key) => key.replace('processors.', ''));
    expect(names.filter((name) => name !== 'scores' && name !== 'input_ids').sort()).toEqual(
      Object.keys(CASES).sort(),
    );
  });
});
