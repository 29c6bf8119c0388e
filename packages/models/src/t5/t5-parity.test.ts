// T5's own checks against the Hugging Face fixture (fixtures/hf-reference/t5), loaded as users load it
// (fromPretrained): the tied head and no position limit, and the tokenizer. Every forward tensor,
// step-by-step decoding through dynamic and static caches, right-padded sources and every generate case
// run in the encoder-decoder suites of ../../test/, as for BART and Marian.
import { useBackend } from '@tsformer/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, type Reference, readReference } from '../../test/encoder-decoder-fixtures.js';
import { fromPretrained } from '../from-pretrained.js';
import type { PretrainedTokenizer } from '../tokenizer.js';
import { T5ForConditionalGeneration } from './t5-model.js';

const reference: Reference = readReference('t5');
let model: T5ForConditionalGeneration;
let tokenizer: PretrainedTokenizer | null;

beforeAll(async () => {
  await useBackend('wasm');
  const pretrained = await fromPretrained(`${FIXTURES}t5`);
  expect(pretrained.model).toBeInstanceOf(T5ForConditionalGeneration);
  model = pretrained.model as T5ForConditionalGeneration;
  tokenizer = pretrained.tokenizer;
});
afterAll(() => model.dispose());

describe('t5 against Hugging Face', () => {
  it('has num_parameters parameters (the shared table once) and no position limit', () => {
    expect(model.numParameters()).toBe(reference.num_parameters);
    expect(model.positionLimit).toBeUndefined();
    expect(model.lmHead.weight).toBe(model.shared.weight);
  });

  it('tokenizes as Hugging Face', () => {
    for (const expected of reference.tokenization!) {
      expect(tokenizer!.encode(expected.text)).toEqual(expected.ids);
    }
  });
});
