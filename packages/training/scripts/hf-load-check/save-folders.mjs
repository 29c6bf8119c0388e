// Writes model folders with tsformer's savePretrained for check_hf_load.py, which loads them with
// transformers' from_pretrained: each fixture family as loaded, after 2 AdamW steps (so the saved
// weights are not the fixture's own), llama also sharded, plus tsformer's logits on a fixed input.
// Usage: node save-folders.mjs OUT_DIR   (after the workspace build)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fromPretrained, savePretrained } from '@tsformer/models';
import { AdamW, enableGradients, trainStep } from '@tsformer/training';

const FIXTURES = new URL('../../../../fixtures/hf-reference/', import.meta.url).pathname;
const FAMILIES = ['gpt2', 'llama', 'qwen3', 'gemma2', 'phi3', 'gpt_neox', 'bart', 'marian', 't5'];
const INPUT_IDS = [[3, 8, 5, 11, 2, 7]];
const DECODER_INPUT_IDS = [[3, 8, 5, 11]];

const out = process.argv[2];
if (!out) throw new Error('usage: node save-folders.mjs OUT_DIR');
await enableGradients();
const expected = {};
for (const family of FAMILIES) {
  const pretrained = await fromPretrained(join(FIXTURES, family));
  const { model } = pretrained;
  const reference = JSON.parse(readFileSync(join(FIXTURES, family, 'training.json'), 'utf8'));
  const matrix = (rows) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
  const batch = {
    inputIds: matrix(reference.batch.input_ids),
    attentionMask: matrix(reference.batch.attention_mask),
    labels: matrix(reference.batch.labels),
  };
  const optimizer = new AdamW(
    model.makeTrainable().map(([, parameter]) => parameter),
    { learningRate: 5e-3 },
  );
  for (let step = 0; step < 2; step++) {
    const { loss, gradNorm } = trainStep(model, batch, optimizer, { maxGradNorm: 1 });
    tf.dispose([loss, gradNorm]);
  }
  optimizer.dispose();
  tf.dispose(Object.values(batch));

  const inputIds = matrix(INPUT_IDS);
  const decoderInputIds = matrix(DECODER_INPUT_IDS);
  const output =
    model.kind === 'causal-lm' ? model.forward(inputIds) : model.forward({ inputIds, decoderInputIds });
  expected[family] = Array.from(await output.logits.data());
  tf.dispose([inputIds, decoderInputIds, output]);

  const saved = await savePretrained(pretrained, join(out, family));
  console.log(`${family}: ${saved.weightNames.length} tensors`);
  if (family === 'llama') {
    const sharded = await savePretrained(pretrained, join(out, 'llama-sharded'), { maxShardSize: '200KB' });
    console.log(`llama-sharded: ${sharded.files.filter((f) => f.endsWith('.safetensors')).length} shards`);
    expected['llama-sharded'] = expected.llama;
  }
  model.dispose();
}
writeFileSync(
  join(out, 'expected.json'),
  JSON.stringify({ input_ids: INPUT_IDS, decoder_input_ids: DECODER_INPUT_IDS, logits: expected }),
);
