// Node-only: node:fs and node:path are imported on first use (as models' savePretrained), so
// importing @tsformer/training in a browser never touches them.

import {
  openSafetensors,
  readTextFile,
  type SafetensorsTensorData,
  saveSafetensors,
} from '@tsformer/core-tensor';
import { type SavableModel, savePretrained } from '@tsformer/models';
import { TrainingCheckpointError } from './errors.js';
import type { OptimizerState, StatefulOptimizer } from './optimizer-state.js';
import type { TrainerState } from './trainer.js';

/** The optimizer's tensors (stored layout) in a checkpoint folder; its numbers go to the state file. */
export const OPTIMIZER_FILE_NAME = 'optimizer.safetensors';
/** Trainer state, optimizer numbers, scheduler step and seed (HF's `trainer_state.json`, plus theirs). */
export const TRAINER_STATE_FILE_NAME = 'trainer_state.json';

interface TrainerStateJson {
  global_step: number;
  epoch: number;
  batch_in_epoch: number;
  seed: number;
  scheduler_steps: number;
  optimizer_scalars: Record<string, number>;
  log_history: TrainerState['logHistory'];
}

/**
 * Writes a checkpoint folder: the model as `savePretrained` writes it (loadable on its own),
 * `optimizer.safetensors` and `trainer_state.json`. Tensors are read with `await data()`.
 */
export async function writeTrainingCheckpoint(
  folder: string,
  saved: SavableModel,
  optimizer: StatefulOptimizer,
  state: TrainerState,
): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await savePretrained(saved, folder);
  const { tensors, scalars } = optimizer.state();
  const data: Record<string, SafetensorsTensorData> = {};
  for (const [key, tensor] of Object.entries(tensors)) {
    data[key] = { dtype: 'F32', shape: tensor.shape, data: (await tensor.data()) as Float32Array };
  }
  await saveSafetensors(join(folder, OPTIMIZER_FILE_NAME), data);
  const json: TrainerStateJson = {
    global_step: state.globalStep,
    epoch: state.epoch,
    batch_in_epoch: state.batchInEpoch,
    seed: state.seed,
    scheduler_steps: state.schedulerSteps,
    optimizer_scalars: scalars,
    log_history: state.logHistory,
  };
  await writeFile(join(folder, TRAINER_STATE_FILE_NAME), `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Reads a checkpoint folder back into `saved.model` (weights, through its family's loader) and
 * `optimizer` (its state) and returns the trainer state; a typed error names a missing or
 * malformed file.
 */
export async function readTrainingCheckpoint(
  folder: string,
  saved: SavableModel,
  optimizer: StatefulOptimizer,
): Promise<TrainerState> {
  const { join } = await import('node:path');
  const statePath = join(folder, TRAINER_STATE_FILE_NAME);
  const json = parseState(statePath, await readTextFile(statePath));
  await saved.family.loadWeights(saved.model, await openSafetensors(folder));
  const file = await openSafetensors(join(folder, OPTIMIZER_FILE_NAME));
  const tensors: OptimizerState['tensors'] = {};
  try {
    for (const name of file.names()) tensors[name] = await file.read(name);
    optimizer.loadState({ tensors, scalars: json.optimizer_scalars });
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose();
    throw error;
  }
  return {
    globalStep: json.global_step,
    epoch: json.epoch,
    batchInEpoch: json.batch_in_epoch,
    seed: json.seed,
    schedulerSteps: json.scheduler_steps,
    logHistory: json.log_history,
  };
}

function parseState(path: string, text: string): TrainerStateJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrainingCheckpointError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const fields = ['global_step', 'epoch', 'batch_in_epoch', 'seed', 'scheduler_steps'] as const;
  const object = json as Record<string, unknown>;
  for (const field of fields) {
    if (typeof object?.[field] !== 'number')
      throw new TrainingCheckpointError(`${path}: "${field}" must be a number`);
  }
  if (typeof object.optimizer_scalars !== 'object' || !Array.isArray(object.log_history)) {
    throw new TrainingCheckpointError(`${path}: "optimizer_scalars" and "log_history" are required`);
  }
  return json as TrainerStateJson;
}
