// T5's own checks against the Hugging Face fixture (fixtures/hf-reference/t5), loaded as users load it
// (fromPretrained): the tied head and no position limit, the tokenizer, and step-by-step decoding through
// dynamic and static caches (the relative bias of the new rows only). Every forward tensor, right-padded
// sources and every generate case run in the encoder-decoder suites of ../../test/, as for BART and Marian.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ids, type Reference, readReference } from '../../test/encoder-decoder-fixtures.js';
import { fromPretrained } from '../from-pretrained.js';
import type { PretrainedTokenizer } from '../tokenizer.js';
import { T5ForConditionalGeneration } from './t5-model.js';

const reference: Reference = readReference('t5');
const _atol = reference.atol ?? 1e-4;
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

  it.each(['dynamic', 'static'] as const)(
    'decodes step by step through a %s cache exactly as a full forward (the bias of the new rows only)',
    async (implementation) => {
      const forwardCase = reference.forward[1]!;
      const target = [...forwardCase.decoder_input_ids[0]!, 5, 17, 364];
      await expectNoLeak(() => {
        const inputIds = ids(forwardCase.input_ids);
        const decoderInputIds = ids([target]);
        const full = model.forward({ inputIds, decoderInputIds });
        const encoding = model.encode(inputIds);
        const cache = model.createCache(1, target.length + 2, implementation);
        const chunks = [target.slice(0, 3), ...target.slice(3).map((id) => [id])]; // a prefill, then one a step
        let position = 0;
        for (const chunk of chunks) {
          const stepIds = ids([chunk]);
          const logits = model.decodeLogits({
            decoderInputIds: stepIds,
            encoderHiddenStates: encoding.lastHiddenState,
            cache,
          });
          const expected = tf.slice(full.logits, [0, position, 0], [1, chunk.length, -1]);
          assertClose(logits, expected, 1e-4, `${implementation} step at position ${position}`);
          position += chunk.length;
          tf.dispose([stepIds, logits, expected]);
        }
        expect(cache.getSeqLength()).toBe(target.length);
        cache.dispose();
        tf.dispose([
          inputIds,
          decoderInputIds,
          full as unknown as tf.TensorContainer,
          encoding.lastHiddenState,
        ]);
      });
    },
  );
});
