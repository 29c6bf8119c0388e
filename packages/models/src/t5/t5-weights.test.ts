// Loading T5 checkpoints the way they exist in the wild: T5 v1.1 / flan-t5 as older transformers saved
// them (`tie_word_embeddings: false` and an `lm_head.weight`), an untied config without a head in the
// file, the unused cross-attention bias table of original T5 files, a tied config beside a separate
// head, and float16 / bfloat16 copies.

import * as tf from '@tensorflow/tfjs-core';
import {
  openSafetensorsBytes,
  type SafetensorsDtype,
  serializeSafetensors,
  useBackend,
} from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { type Checkpoint, randomCheckpoint } from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors.js';
import { resolveT5Config, type T5Config } from './t5-config.js';
import { T5ForConditionalGeneration } from './t5-model.js';
import { loadT5Weights } from './t5-weights.js';

const SMALL = {
  model_type: 't5',
  vocab_size: 30,
  d_model: 8,
  d_kv: 4,
  num_heads: 2,
  d_ff: 10,
  num_layers: 2,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 12,
};
const FLAN = resolveT5Config({ ...SMALL, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false });
const ORIGINAL = resolveT5Config(SMALL);
const SOURCE = [4, 9, 13, 2, 27, 6];
const TARGET = [0, 5, 11, 3];

/** The names `save_pretrained` writes: the shared table once, no `embed_tokens` copies, the head only when untied. */
function savedNames(checkpoint: Checkpoint, config: T5Config): string[] {
  return [...checkpoint.keys()].filter(
    (name) =>
      !name.endsWith('embed_tokens.weight') && (name !== 'lm_head.weight' || !config.tieWordEmbeddings),
  );
}

/** A safetensors file of `names` from `checkpoint` (plus `extra`), in `dtype`. */
function checkpointFile(
  model: T5ForConditionalGeneration,
  checkpoint: Checkpoint,
  names: string[],
  dtype: SafetensorsDtype = 'F32',
  extra: Record<string, { shape: number[]; data: number[] }> = {},
) {
  const shapes = new Map(model.namedParameters().map(([name, parameter]) => [name, parameter.shape]));
  const tensors = Object.fromEntries([
    ...names.map((name) => [name, { dtype, shape: shapes.get(name)!, data: checkpoint.get(name)! }] as const),
    ...Object.entries(extra).map(([name, { shape, data }]) => [name, { dtype, shape, data }] as const),
  ]);
  return openSafetensorsBytes(serializeSafetensors(tensors), 'model.safetensors');
}

function logitsOf(model: T5ForConditionalGeneration): Float32Array {
  return tf.tidy(() => {
    const inputIds = tf.tensor2d([SOURCE], undefined, 'int32');
    const decoderInputIds = tf.tensor2d([TARGET], undefined, 'int32');
    const out = model.forward({ inputIds, decoderInputIds });
    return out.logits.dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('T5 checkpoints beyond the fixture', () => {
  it('takes an untied head from the file (tie_word_embeddings false, as older transformers saved flan-t5)', async () => {
    await expectNoLeak(async () => {
      const source = new T5ForConditionalGeneration(FLAN);
      const checkpoint = randomCheckpoint(source, 21);
      const expected = logitsOf(source);
      const file = await checkpointFile(source, checkpoint, savedNames(checkpoint, FLAN));
      expect(file.names()).toContain('lm_head.weight');
      const model = new T5ForConditionalGeneration(FLAN);
      await loadT5Weights(model, file);
      expect(model.lmHead.weight).not.toBe(model.shared.weight);
      assertClose(model.lmHead.weight.tensor, source.lmHead.weight.tensor, 0, 'lm_head');
      assertClose(logitsOf(model), expected, 0, 'logits');
      source.dispose();
      model.dispose();
    });
  });

  it('reads the head from the shared table when an untied config’s file has no lm_head.weight (as transformers 5 ties it)', async () => {
    await expectNoLeak(async () => {
      const source = new T5ForConditionalGeneration(FLAN);
      const checkpoint = randomCheckpoint(source, 22);
      const names = savedNames(checkpoint, FLAN).filter((name) => name !== 'lm_head.weight');
      const model = new T5ForConditionalGeneration(FLAN);
      const report = await loadT5Weights(model, await checkpointFile(source, checkpoint, names));
      expect(report.missing).toEqual([]);
      const head = tf.tidy(() => tf.transpose(model.lmHead.weight.tensor)); // stored [in, out]
      assertClose(head, checkpoint.get('shared.weight')!, 0, 'lm_head = shared');
      head.dispose();
      source.dispose();
      model.dispose();
    });
  });

  it('ignores the cross-attention bias table original T5 files carry, as Hugging Face does', async () => {
    await expectNoLeak(async () => {
      const source = new T5ForConditionalGeneration(ORIGINAL);
      const checkpoint = randomCheckpoint(source, 23);
      const unused = 'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight';
      const shape = [ORIGINAL.relativeAttentionNumBuckets, ORIGINAL.numHeads];
      const file = await checkpointFile(source, checkpoint, savedNames(checkpoint, ORIGINAL), 'F32', {
        [unused]: { shape, data: Array(shape[0]! * shape[1]!).fill(0.5) },
      });
      const model = new T5ForConditionalGeneration(ORIGINAL);
      const report = await loadT5Weights(model, file);
      expect(report.ignored).toEqual([unused]);
      assertClose(logitsOf(model), logitsOf(source), 0, 'logits');
      source.dispose();
      model.dispose();
    });
  });

  it('loads a tied config whose file also stores the head as a copy of the table', async () => {
    await expectNoLeak(async () => {
      const source = new T5ForConditionalGeneration(ORIGINAL);
      const checkpoint = randomCheckpoint(source, 24); // the tied lm_head.weight holds the table's values
      const names = [...savedNames(checkpoint, ORIGINAL), 'lm_head.weight'];
      const model = new T5ForConditionalGeneration(ORIGINAL);
      await loadT5Weights(model, await checkpointFile(source, checkpoint, names));
      assertClose(logitsOf(model), logitsOf(source), 0, 'logits');
      source.dispose();
      model.dispose();
    });
  });

  it('refuses a tied config beside a different lm_head.weight (a flan-t5 re-saved by transformers 5)', async () => {
    await expectNoLeak(async () => {
      const untied = new T5ForConditionalGeneration(FLAN);
      const checkpoint = randomCheckpoint(untied, 25);
      const file = await checkpointFile(untied, checkpoint, savedNames(checkpoint, FLAN));
      const resaved = resolveT5Config({
        ...SMALL,
        feed_forward_proj: 'gated-gelu',
        scale_decoder_outputs: false,
      });
      const model = new T5ForConditionalGeneration(resaved);
      const loading = loadT5Weights(model, file);
      await expect(loading).rejects.toThrow(ModelFileError);
      await expect(loading).rejects.toThrow(
        /model\.safetensors: lm_head\.weight differs from shared\.weight, .*set "tie_word_embeddings": false/,
      );
      untied.dispose();
      model.dispose();
    });
  });

  it.each([
    ['F16', (value: number) => value], // the checkpoint's values are multiples of 2^-10 below 2: exact
    ['BF16', toBfloat16],
  ] as const)('loads a %s copy exactly (the reader widens it)', async (dtype, round) => {
    await expectNoLeak(async () => {
      const source = new T5ForConditionalGeneration(FLAN);
      const checkpoint = new Map(
        [...randomCheckpoint(source, 26)].map(([name, values]) => [name, values.map(round)]),
      );
      for (const [name, parameter] of source.namedParameters()) {
        parameter.assign(tf.tensor(checkpoint.get(name)!, [...parameter.shape]));
      }
      const file = await checkpointFile(source, checkpoint, savedNames(checkpoint, FLAN), dtype);
      expect(file.dtype('lm_head.weight')).toBe(dtype);
      const model = new T5ForConditionalGeneration(FLAN);
      await loadT5Weights(model, file);
      assertClose(logitsOf(model), logitsOf(source), 0, `${dtype}-loaded logits`);
      source.dispose();
      model.dispose();
    });
  });
});

/** `value` rounded to bfloat16 (nearest, ties to even), as a number. */
function toBfloat16(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer);
  bits[0] = (bits[0]! + 0x7fff + ((bits[0]! >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(bits.buffer)[0]!;
}
