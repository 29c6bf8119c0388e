import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, withFile } from '@tsformer/core-tensor';
import { PretrainedCausalLM, type PretrainedModel, PretrainedSeq2SeqLM } from '@tsformer/models';
import {
  checkTrainingReference,
  type Float64TrainingReference,
  parseFloat64TrainingJson,
  parseTrainingReference,
  type TrainingCheck,
} from '@tsformer/training/testing';
import { readJsonObject } from '../json-file.js';
import type { CheckResult } from './check-result.js';

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/**
 * When the folder has training.json (and training.safetensors): PyTorch's fine-tuning replayed on
 * `model`, a `note` saying which rule judges (the float64 one when training-float64.json and
 * .safetensors are there, else the plain one), then one result per loss, gradient norm, gradient
 * and final weight. Trains `model` in place: run it last. None when the folder has no training
 * reference.
 */
export async function checkTraining(dir: string, model: PretrainedModel): Promise<CheckResult[]> {
  const path = join(dir, 'training.json');
  if (!(await isFile(path))) return [];
  if (!(model instanceof PretrainedCausalLM || model instanceof PretrainedSeq2SeqLM)) {
    return [
      { name: 'training', status: 'fail', detail: `${model.constructor.name} computes no loss to train` },
    ];
  }
  const raw = await readJsonObject(path);
  const reference = withFile(path, () => parseTrainingReference(raw));
  const tensors = await openSafetensors(join(dir, 'training.safetensors'));
  const checks = await checkTrainingReference(model, reference, tensors, await readFloat64(dir));
  return checks.map(toCheckResult);
}

/** training-float64.json + .safetensors when both are in `dir`. */
async function readFloat64(dir: string): Promise<Float64TrainingReference | undefined> {
  const [jsonPath, tensorsPath] = ['json', 'safetensors'].map((ext) => join(dir, `training-float64.${ext}`));
  if (!(await isFile(jsonPath!)) || !(await isFile(tensorsPath!))) return undefined;
  const raw = await readJsonObject(jsonPath!);
  return {
    json: withFile(jsonPath!, () => parseFloat64TrainingJson(raw)),
    tensors: await openSafetensors(tensorsPath!),
  };
}

function toCheckResult(check: TrainingCheck): CheckResult {
  const status = check.reported ? 'note' : check.pass ? 'pass' : 'fail';
  return { name: `training ${check.name}`, status, detail: check.detail };
}
