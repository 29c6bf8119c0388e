import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, type SafetensorsReader, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DECODER_FIXTURES,
  expectReference,
  forwardTolerance,
  ids,
  openReferenceTensors,
  readDecoderReference,
  readJson,
} from '../../test/decoder-fixtures.js';
import type { GPT2LMHeadModel } from './gpt2-model.js';
import { gpt2 } from './index.js';

const reference = readDecoderReference('gpt2');
const atol = forwardTolerance(reference);
let model: GPT2LMHeadModel;
let tensors: SafetensorsReader;

beforeAll(async () => {
  await useBackend('wasm');
  model = gpt2.createModel(gpt2.resolveConfig(readJson(`${DECODER_FIXTURES.gpt2}/config.json`)));
  await gpt2.loadWeights(model, await openSafetensors(`${DECODER_FIXTURES.gpt2}/model.safetensors`));
  tensors = await openReferenceTensors('gpt2');
});

afterAll(() => {
  model.dispose();
});

describe('GPT-2 against Hugging Face (fixtures/hf-reference/gpt2)', () => {
  it('counts the parameters as num_parameters() does (tied lm_head once)', () => {
    expect(model.numParameters()).toBe(reference.num_parameters);
  });

  it('reproduces the logits, every hidden state and every attention map of prompt 0', async () => {
    await expectNoLeak(async () => {
      const inputIds = ids(reference.forward[0]!.input_ids);
      const out = model.forward(inputIds, { outputHiddenStates: true, outputAttentions: true });
      expect(out.hiddenStates).toHaveLength(model.config.numHiddenLayers + 1);
      expect(out.attentions).toHaveLength(model.config.numHiddenLayers);
      await expectReference(tensors, 'forward.0.logits', out.logits, atol);
      for (const [layer, hidden] of out.hiddenStates!.entries()) {
        await expectReference(tensors, `forward.0.hidden.${layer}`, hidden, atol);
      }
      for (const [layer, attention] of out.attentions!.entries()) {
        await expectReference(tensors, `forward.0.attn.${layer}`, attention, atol);
      }
      tf.dispose([inputIds, out.logits, ...out.hiddenStates!, ...out.attentions!]);
    });
  });

  it('reproduces the last-position logits of every prompt', async () => {
    await expectNoLeak(async () => {
      for (const [k, { input_ids }] of reference.forward.entries()) {
        const inputIds = ids(input_ids);
        const logits = model.forward(inputIds, { logitsToKeep: 1 }).logits;
        expect(logits.shape).toEqual([1, 1, model.vocabSize]);
        await expectReference(tensors, `forward.${k}.last_logits`, logits, atol);
        tf.dispose([inputIds, logits]);
      }
    });
  });
});
