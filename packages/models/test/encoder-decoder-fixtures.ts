// Reading the Hugging Face reference fixtures of the encoder-decoder families (bart, marian, t5).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, type SafetensorsReader } from '@tsformer/core-tensor';
import type { ForwardCase as BaseForwardCase, GenerateCase, ReferenceJson } from '@tsformer/models/testing';
import { folderFiles } from '../src/folder-files.js';
import type { ModelFamily } from '../src/model-family.js';
import { openModelWeights } from '../src/model-weights.js';
import type { PretrainedSeq2SeqLM, Seq2SeqConfig } from '../src/seq2seq-lm.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/hf-reference/', import.meta.url));

/** A forward case of an encoder-decoder fixture: it has decoder ids. */
export type ForwardCase = BaseForwardCase & Required<Pick<BaseForwardCase, 'decoder_input_ids'>>;

export type { GenerateCase };

/** reference.json of an encoder-decoder fixture: these parts are always there. */
export interface Reference extends ReferenceJson {
  num_parameters: number;
  forward: ForwardCase[];
  generate: GenerateCase[];
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readReference(family: string): Reference {
  return readJson<Reference>(`${FIXTURES}${family}/reference.json`);
}

/**
 * The fixture's model with its weights loaded through its `ModelFamily` entry, as `fromPretrained`
 * builds it (config.json → resolveConfig → createModel → loadWeights from the folder's safetensors).
 */
export async function loadFixtureModel<
  Config extends Seq2SeqConfig,
  Model extends PretrainedSeq2SeqLM<Config>,
>(family: ModelFamily<Config, Model>): Promise<Model> {
  const files = folderFiles(`${FIXTURES}${family.modelType}`);
  const model = family.createModel(family.resolveConfig(readJson(files.path('config.json'))));
  await family.loadWeights(model, await openModelWeights(files));
  return model;
}

/** The reference tensors (`forward.{k}.logits`, attention maps, ...). */
export function openReferenceTensors(family: string): Promise<SafetensorsReader> {
  return openSafetensors(`${FIXTURES}${family}/reference.safetensors`);
}

/** A `[rows, cols]` int32 tensor of token ids. */
export function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

/** Row `index` of a batched tensor, without the batch axis. */
export function batchRow(tensor: tf.Tensor, index: number): tf.Tensor {
  return tf.tidy(() => tf.squeeze(tf.slice(tensor, index, 1), [0]));
}
