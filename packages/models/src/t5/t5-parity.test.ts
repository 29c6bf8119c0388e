// T5 against Hugging Face transformers' own outputs (fixtures/hf-reference/t5: relative position buckets
// clamped past max_distance, RMS norms, unscaled attention, ReLU, a tied head scaled by d_model^-0.5),
// loaded as users load it (fromPretrained): every forward tensor, right-padded sources, incremental
// decoding through dynamic and static caches, and every generate case with both caches.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { type CacheImplementation, generateAll, parseGenerationConfig } from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchRow,
  FIXTURES,
  ids,
  openReferenceTensors,
  type Reference,
  readReference,
} from '../../test/encoder-decoder-fixtures.js';
import { fromPretrained } from '../from-pretrained.js';
import type { PretrainedTokenizer } from '../tokenizer.js';
import { T5ForConditionalGeneration } from './t5-model.js';

const reference: Reference = readReference('t5');
const atol = reference.atol ?? 1e-4;
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

  it('gives every forward case’s logits', async () => {
    const tensors = await openReferenceTensors('t5');
    for (const forwardCase of reference.forward) {
      const expected = await tensors.read(`forward.${forwardCase.prompt}.logits`);
      await expectNoLeak(() => {
        const inputIds = ids(forwardCase.input_ids);
        const decoderInputIds = ids(forwardCase.decoder_input_ids);
        const { logits, encoderLastHiddenState } = model.forward({ inputIds, decoderInputIds });
        const row = batchRow(logits, 0);
        assertClose(row, expected, atol, `forward.${forwardCase.prompt}.logits`);
        tf.dispose([inputIds, decoderInputIds, logits, encoderLastHiddenState, row]);
      });
      expected.dispose();
    }
  });

  it('gives the encoder output and every encoder, decoder and cross attention map', async () => {
    const tensors = await openReferenceTensors('t5');
    const forwardCase = reference.forward[0]!;
    const names = tensors.names().filter((name) => name.startsWith('forward.0.') && !name.endsWith('logits'));
    const expected = new Map(
      await Promise.all(names.map(async (name) => [name, await tensors.read(name)] as const)),
    );
    await expectNoLeak(() => {
      const inputIds = ids(forwardCase.input_ids);
      const decoderInputIds = ids(forwardCase.decoder_input_ids);
      const output = model.forward({ inputIds, decoderInputIds, outputAttentions: true });
      const actual = new Map<string, tf.Tensor>([
        ['forward.0.encoder_last_hidden', output.encoderLastHiddenState],
      ]);
      const maps = {
        encoder_attn: output.encoderAttentions,
        decoder_attn: output.decoderAttentions,
        cross_attn: output.crossAttentions,
      };
      for (const [kind, perLayer] of Object.entries(maps)) {
        for (const [layer, attention] of perLayer.entries())
          actual.set(`forward.0.${kind}.${layer}`, attention);
      }
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [name, tensor] of actual) {
        const row = batchRow(tensor, 0);
        assertClose(row, expected.get(name)!, atol, name);
        row.dispose();
      }
      tf.dispose([inputIds, decoderInputIds, output as unknown as tf.TensorContainer]);
    });
    tf.dispose([...expected.values()]);
  });

  it('masks right-padded sources in the encoder and in every cross-attention', async () => {
    const tensors = await openReferenceTensors('t5');
    const cases = reference.forward.slice(0, 3);
    const sourceLength = Math.max(...cases.map((c) => c.input_ids[0]!.length));
    const padded = cases.map((c) => [
      ...c.input_ids[0]!,
      ...Array(sourceLength - c.input_ids[0]!.length).fill(model.config.padTokenId),
    ]);
    const mask = cases.map((c) => padded[0]!.map((_, i) => (i < c.input_ids[0]!.length ? 1 : 0)));
    const expected = await Promise.all(cases.map((c) => tensors.read(`forward.${c.prompt}.logits`)));
    await expectNoLeak(() => {
      const inputIds = ids(padded);
      const attentionMask = ids(mask);
      const decoderInputIds = ids(cases.map((c) => c.decoder_input_ids[0]!));
      const { logits, encoderLastHiddenState } = model.forward({ inputIds, attentionMask, decoderInputIds });
      cases.forEach((c, row) => {
        const actual = batchRow(logits, row);
        assertClose(actual, expected[row]!, atol, `padded row ${row} (prompt ${c.prompt})`);
        actual.dispose();
      });
      tf.dispose([inputIds, attentionMask, decoderInputIds, logits, encoderLastHiddenState]);
    });
    tf.dispose(expected);
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

describe('t5 generate against Hugging Face', () => {
  it.each(
    (['dynamic', 'static'] as const).flatMap((cacheImplementation: CacheImplementation) =>
      reference.generate.map(
        (generateCase) =>
          [`${generateCase.name} (${cacheImplementation} cache)`, generateCase, cacheImplementation] as const,
      ),
    ),
  )('%s', async (_, generateCase, cacheImplementation) => {
    const output = await expectNoLeak(() =>
      generateAll(
        model,
        {
          inputIds: generateCase.input_ids,
          ...(generateCase.attention_mask && { attentionMask: generateCase.attention_mask }),
        },
        { ...parseGenerationConfig(generateCase.kwargs, `${generateCase.name} kwargs`), cacheImplementation },
      ),
    );
    expect(output.sequences).toEqual(generateCase.sequences);
    if (generateCase.sequences_scores) {
      assertClose(output.sequencesScores!, generateCase.sequences_scores, 1e-4, 'sequences_scores');
    }
  });
});
