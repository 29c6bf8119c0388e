import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type SafetensorsTensorData, saveSafetensorsFolder } from '@tsformer/core-tensor';
import { randomWeights } from '@tsformer/core-tensor/testing';
import { createModelFromConfig, type RawConfig } from '@tsformer/models';

/** GPT-2 124M's configuration (the `gpt2` checkpoint), the size transformers.js is measured on. */
export const GPT2_124M: RawConfig = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  activation_function: 'gelu_new',
  bos_token_id: 50256,
  eos_token_id: 50256,
};

/** facebook/bart-base's configuration. */
export const BART_BASE: RawConfig = {
  model_type: 'bart',
  architectures: ['BartForConditionalGeneration'],
  vocab_size: 50265,
  d_model: 768,
  encoder_layers: 6,
  decoder_layers: 6,
  encoder_attention_heads: 12,
  decoder_attention_heads: 12,
  encoder_ffn_dim: 3072,
  decoder_ffn_dim: 3072,
  max_position_embeddings: 1024,
  activation_function: 'gelu',
  bos_token_id: 0,
  pad_token_id: 1,
  eos_token_id: 2,
  decoder_start_token_id: 2,
  forced_eos_token_id: 2,
};

/**
 * Writes a model folder of `config` with seeded random float32 weights, named by the model's own module
 * tree and saved with the project's safetensors writer (tied weights once, as save_pretrained does),
 * plus the tokenizer files of `tokenizerFolder`. Later runs reuse the folder.
 */
export async function ensureRandomModel(
  folder: string,
  config: RawConfig,
  tokenizerFolder: string,
  /** The stored dtype: F32, or BF16 (the same random values rounded, as most Hub checkpoints are stored). */
  dtype: 'F32' | 'BF16' = 'F32',
): Promise<string> {
  if (existsSync(join(folder, 'config.json'))) return folder;
  mkdirSync(folder, { recursive: true });
  const { model } = createModelFromConfig(config);
  randomWeights(model, 124, 0.02);
  const tensors: Record<string, SafetensorsTensorData> = {};
  const saved = new Set<unknown>();
  for (const [name, parameter] of model.namedParameters()) {
    if (saved.has(parameter)) continue;
    saved.add(parameter);
    const data = tf.tidy(() =>
      parameter.transposed ? tf.transpose(parameter.tensor) : parameter.tensor.clone(),
    );
    tensors[name] = { dtype, shape: [...parameter.shape], data: (await data.data()) as Float32Array };
    data.dispose();
  }
  model.dispose();
  await saveSafetensorsFolder(folder, tensors, { maxShardBytes: 2 ** 40 });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(join(tokenizerFolder, file), join(folder, file));
  }
  const stored = dtype === 'BF16' ? { ...config, dtype: 'bfloat16' } : config;
  writeFileSync(join(folder, 'config.json'), `${JSON.stringify(stored, null, 2)}\n`);
  return folder;
}
