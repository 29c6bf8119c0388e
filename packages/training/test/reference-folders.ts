// The fixtures' reference folders as the training tests load them: the model built from config.json
// and model.safetensors, training.json's batch as tensors.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '@tsformer/core-tensor';
import { getModelFamily } from '@tsformer/models';
import type { TrainingReferenceJson } from '../src/testing/index.js';
import type { TrainableLanguageModel, TrainingBatch } from '../src/training-batch.js';

export const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The folder's model; `configOverrides` replaces fields of its config.json (dropout rates, say). */
export async function loadModel(
  folder: string,
  configOverrides: Record<string, unknown> = {},
): Promise<TrainableLanguageModel> {
  const dir = `${FIXTURES}${folder}`;
  const raw = { ...readJson<Record<string, unknown>>(`${dir}/config.json`), ...configOverrides };
  const family = getModelFamily(raw.model_type);
  const model = family.createModel(family.resolveConfig(raw)) as unknown as TrainableLanguageModel;
  await family.loadWeights(model, await openSafetensors(dir));
  return model;
}

export function batchOf(reference: TrainingReferenceJson): TrainingBatch {
  const matrix = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
  const { input_ids, attention_mask, labels } = reference.batch;
  return { inputIds: matrix(input_ids), attentionMask: matrix(attention_mask), labels: matrix(labels) };
}
