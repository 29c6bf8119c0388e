// One parity suite for every decoder-only fixture: HF's logits, hidden states, attention maps,
// last-position logits of every prompt and num_parameters().
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, type SafetensorsReader, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PretrainedCausalLM } from '../src/causal-lm.js';
import type { ModelFamily } from '../src/model-family.js';
import {
  DECODER_FIXTURES,
  type DecoderFixtureName,
  expectReference,
  forwardTolerance,
  ids,
  openReferenceTensors,
  readDecoderReference,
  readJson,
} from './decoder-fixtures.js';

export function describeForwardParity<Config, Model extends PretrainedCausalLM>(
  fixture: DecoderFixtureName,
  family: ModelFamily<Config, Model>,
): void {
  const reference = readDecoderReference(fixture);
  const atol = forwardTolerance(reference);
  let model: Model;
  let tensors: SafetensorsReader;

  describe(`${fixture} against Hugging Face (atol ${atol})`, () => {
    beforeAll(async () => {
      await useBackend('wasm');
      const folder = DECODER_FIXTURES[fixture];
      model = family.createModel(family.resolveConfig(readJson(`${folder}/config.json`)));
      await family.loadWeights(model, await openSafetensors(folder));
      tensors = await openReferenceTensors(fixture);
      // The first forward fills the model's kept cos/sin tables (not a leak of any later call).
      tf.dispose(model.forward(ids([[0]])).logits);
    });

    afterAll(() => {
      model.dispose();
    });

    it('counts the parameters as num_parameters() does (tied lm_head once)', () => {
      expect(model.numParameters()).toBe(reference.num_parameters);
    });

    it('reproduces the logits, every hidden state and every attention map of prompt 0', async () => {
      await expectNoLeak(async () => {
        const inputIds = ids(reference.forward[0]!.input_ids);
        const out = model.forward(inputIds, { outputHiddenStates: true, outputAttentions: true });
        const layers = model.config.numHiddenLayers;
        expect(out.hiddenStates).toHaveLength(layers + 1);
        expect(out.attentions).toHaveLength(layers);
        await expectReference(tensors, 'forward.0.logits', out.logits, atol);
        const names = new Set(tensors.names());
        for (let layer = 0; layer <= layers; layer++) {
          const name = `forward.0.hidden.${layer}`;
          if (names.has(name)) await expectReference(tensors, name, out.hiddenStates![layer]!, atol);
        }
        for (let layer = 0; layer < layers; layer++) {
          const name = `forward.0.attn.${layer}`;
          if (names.has(name)) await expectReference(tensors, name, out.attentions![layer]!, atol);
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
}
