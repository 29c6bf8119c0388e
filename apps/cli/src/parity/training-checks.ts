import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors } from '@tsformer/core-tensor';
import { PretrainedCausalLM, type PretrainedModel, PretrainedSeq2SeqLM } from '@tsformer/models';
import {
  checkTrainingReference,
  type TrainingCheck,
  type TrainingReferenceJson,
} from '@tsformer/training/testing';
import { readJsonObject } from '../json-file.js';
import type { CheckResult } from './check-result.js';

/**
 * When the folder has training.json (and training.safetensors): PyTorch's fine-tuning replayed on
 * `model`, one result per loss, gradient norm, gradient and final weight, then the noise-floor report
 * (a `note`). Trains `model` in place: run it last. None when the folder has no training reference.
 */
export async function checkTraining(dir: string, model: PretrainedModel): Promise<CheckResult[]> {
  const path = join(dir, 'training.json');
  const present = await stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
  if (!present) return [];
  if (!(model instanceof PretrainedCausalLM || model instanceof PretrainedSeq2SeqLM)) {
    return [
      { name: 'training', status: 'fail', detail: `${model.constructor.name} computes no loss to train` },
    ];
  }
  const reference = (await readJsonObject(path)) as unknown as TrainingReferenceJson;
  const tensors = await openSafetensors(join(dir, 'training.safetensors'));
  const checks = await checkTrainingReference(model, reference, tensors);
  return checks.map(toCheckResult);
}

function toCheckResult(check: TrainingCheck): CheckResult {
  const status = check.reported ? 'note' : check.pass ? 'pass' : 'fail';
  return { name: `training ${check.name}`, status, detail: check.detail };
}
