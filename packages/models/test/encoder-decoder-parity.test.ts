// The encoder-decoder families against Hugging Face transformers' own outputs (fixtures/hf-reference/{bart,marian,t5}).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bart } from '../src/bart/index.js';
import { folderFiles } from '../src/folder-files.js';
import { marian } from '../src/marian/index.js';
import type { PretrainedSeq2SeqLM, Seq2SeqConfig } from '../src/seq2seq-lm.js';
import { t5 } from '../src/t5/index.js';
import { PretrainedTokenizer } from '../src/tokenizer.js';
import {
  batchRow,
  FIXTURES,
  ids,
  loadFixtureModel,
  openReferenceTensors,
  type Reference,
  readReference,
} from './encoder-decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const FAMILIES = [
  { family: 'bart', entry: bart },
  { family: 'marian', entry: marian },
  { family: 't5', entry: t5 },
] as const;

describe.each(FAMILIES)('$family against Hugging Face', ({ family, entry }) => {
  const reference: Reference = readReference(family);
  const atol = reference.atol ?? 1e-4;
  let model: PretrainedSeq2SeqLM<Seq2SeqConfig>;

  beforeAll(async () => {
    model = await loadFixtureModel(entry);
  });
  afterAll(() => model.dispose());

  it('has num_parameters parameters', () => {
    expect(model.numParameters()).toBe(reference.num_parameters);
  });

  it('gives every forward case’s logits', async () => {
    const tensors = await openReferenceTensors(family);
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
    const tensors = await openReferenceTensors(family);
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

  it.each(['dynamic', 'static'] as const)(
    'decodes incrementally through a %s cache exactly as a full forward',
    async (implementation) => {
      const forwardCase = reference.forward[1]!;
      // The case's decoder ids and a few more, so that steps run past the fixture (T5: the position bias
      // of the new rows only; a static cache: slots left over).
      const target = [...forwardCase.decoder_input_ids[0]!, 5, 17, 364];
      await expectNoLeak(() => {
        const inputIds = ids(forwardCase.input_ids);
        const decoderInputIds = ids([target]);
        const full = model.forward({ inputIds, decoderInputIds });
        const encoding = model.encode(inputIds);
        const cache = model.createCache(1, target.length + 2, implementation);
        // a two-token prefill, then one token a step
        const chunks = [target.slice(0, 2), ...target.slice(2).map((id) => [id])];
        let position = 0;
        for (const chunk of chunks) {
          const stepIds = ids([chunk]);
          const logits = model.decodeLogits({
            decoderInputIds: stepIds,
            encoderHiddenStates: encoding.lastHiddenState,
            cache,
          });
          const expected = tf.slice(full.logits, [0, position, 0], [1, chunk.length, -1]);
          assertClose(logits, expected, 1e-4, `step at position ${position}`);
          // the first step computed every layer's cross-attention keys/values; later steps reuse them
          const layers = [...Array(model.config.decoderLayers).keys()];
          expect(layers.every((layer) => cache.isCrossFilled(layer))).toBe(true);
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

  it('keeps only the last logitsToKeep positions', async () => {
    const forwardCase = reference.forward[2]!;
    await expectNoLeak(() => {
      const inputIds = ids(forwardCase.input_ids);
      const decoderInputIds = ids(forwardCase.decoder_input_ids);
      const full = model.forward({ inputIds, decoderInputIds });
      const encoding = model.encode(inputIds);
      const last = model.decodeLogits({
        decoderInputIds,
        encoderHiddenStates: encoding.lastHiddenState,
        logitsToKeep: 1,
      });
      const targetLength = decoderInputIds.shape[1];
      const expected = tf.slice(full.logits, [0, targetLength - 1, 0], [1, 1, -1]);
      assertClose(last, expected, 1e-5, 'last position');
      tf.dispose([
        inputIds,
        decoderInputIds,
        full as unknown as tf.TensorContainer,
        encoding.lastHiddenState,
        last,
        expected,
      ]);
    });
  });

  it('masks right padding in the encoder and in every cross-attention', async () => {
    const tensors = await openReferenceTensors(family);
    const cases = reference.forward.slice(0, 3);
    const sourceLength = Math.max(...cases.map((c) => c.input_ids[0]!.length));
    const pad = model.config.padTokenId;
    const padded = cases.map((c) => [
      ...c.input_ids[0]!,
      ...Array(sourceLength - c.input_ids[0]!.length).fill(pad),
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
});

describe('the bart fixture’s tokenizer (fromPretrained’s loader)', () => {
  it.each(readReference('bart').tokenization!)('tokenizes $text as Hugging Face', async (expected) => {
    const tokenizer = await PretrainedTokenizer.fromFiles(folderFiles(`${FIXTURES}bart`));
    expect(tokenizer).not.toBeNull();
    expect(tokenizer!.encode(expected.text)).toEqual(expected.ids);
  });
});
