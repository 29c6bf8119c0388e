import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, type SafetensorsReader, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
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

const FIXTURE = fileURLToPath(
  new URL('../../../../fixtures/hf-reference/processors/reference.safetensors', import.meta.url),
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

/** A fixture tensor's values, as plain numbers. */
async function valuesOf(fixture: SafetensorsReader, name: string): Promise<number[]> {
  const tensor = await fixture.read(`processors.${name}`);
  const values = Array.from(await tensor.data());
  tensor.dispose();
  return values;
}

describe('logits processors match Hugging Face (fixtures/hf-reference/processors)', () => {
  let fixture: SafetensorsReader;
  let inputIds: number[][];
  let scores: number[];

  beforeAll(async () => {
    await useBackend('wasm');
    fixture = await openSafetensors(FIXTURE);
    const ids = await valuesOf(fixture, 'input_ids'); // [2, 7]
    inputIds = [ids.slice(0, 7), ids.slice(7, 14)];
    scores = await valuesOf(fixture, 'scores'); // [2, 64]
  });

  it.each(Object.keys(CASES))('%s', async (name) => {
    const expected = await valuesOf(fixture, name);
    await expectNoLeak(() => {
      const input = tf.tensor2d(scores, [2, 64], 'float32');
      const output = tf.tidy(() => applyLogitsProcessors(CASES[name]!(), inputIds, input));
      assertClose(output, expected, 1e-5, name);
      assertClose(input, scores, 0, `${name} input`);
      tf.dispose([input, output]);
    });
  });

  it('covers every processor the fixture holds', () => {
    const names = fixture.names().map((key) => key.replace('processors.', ''));
    expect(names.filter((name) => name !== 'scores' && name !== 'input_ids').sort()).toEqual(
      Object.keys(CASES).sort(),
    );
  });
});
