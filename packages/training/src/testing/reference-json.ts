import { TrainingReferenceError } from '../errors.js';
import type { Float64TrainingJson } from './float64-reference.js';
import type { TrainingReferenceJson } from './training-reference.js';

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrainingReferenceError(`${field} must be an object, got ${describe(value)}`);
  }
  return value as Json;
}

function numbers(value: unknown, field: string): number[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number')) {
    throw new TrainingReferenceError(`${field} must be a list of numbers, got ${describe(value)}`);
  }
  return value;
}

function number(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TrainingReferenceError(`${field} must be a number, got ${describe(value)}`);
  }
  return value;
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TrainingReferenceError(`${field} must be a list of names, got ${describe(value)}`);
  }
  return value;
}

function matrix(value: unknown, field: string): number[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TrainingReferenceError(`${field} must be a non-empty list of rows, got ${describe(value)}`);
  }
  const rows = value.map((row, i) => numbers(row, `${field}[${i}]`));
  if (rows.some((row) => row.length !== rows[0]!.length || !row.every(Number.isInteger))) {
    throw new TrainingReferenceError(`${field} must be rows of integers of one length`);
  }
  return rows;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : typeof value;
}

/**
 * A training.json's contents checked field by field (fixtures/hf-reference/README.md); a missing or
 * mistyped field is a `TrainingReferenceError` naming it. Wrap in `withFile` to name the file.
 */
export function parseTrainingReference(value: unknown): TrainingReferenceJson {
  const json = object(value, 'training.json');
  const batch = object(json.batch, 'batch');
  const h = object(json.hyperparameters, 'hyperparameters');
  const hyperparameters = {
    lr: number(h.lr, 'hyperparameters.lr'),
    betas: numbers(h.betas, 'hyperparameters.betas') as [number, number],
    eps: number(h.eps, 'hyperparameters.eps'),
    weight_decay: number(h.weight_decay, 'hyperparameters.weight_decay'),
    max_grad_norm: number(h.max_grad_norm, 'hyperparameters.max_grad_norm'),
    steps: number(h.steps, 'hyperparameters.steps'),
  };
  if (hyperparameters.betas.length !== 2)
    throw new TrainingReferenceError('hyperparameters.betas must hold 2 numbers');
  return {
    is_encoder_decoder: json.is_encoder_decoder === true,
    batch: {
      input_ids: matrix(batch.input_ids, 'batch.input_ids'),
      attention_mask: matrix(batch.attention_mask, 'batch.attention_mask'),
      labels: matrix(batch.labels, 'batch.labels'),
    },
    hyperparameters,
    losses: numbers(json.losses, 'losses'),
    grad_norms_before_clipping: numbers(json.grad_norms_before_clipping, 'grad_norms_before_clipping'),
    parameters: strings(json.parameters, 'parameters'),
    unused_parameters: strings(json.unused_parameters ?? [], 'unused_parameters'),
  };
}

/** A training-float64.json's contents checked as `parseTrainingReference` checks training.json. */
export function parseFloat64TrainingJson(value: unknown): Float64TrainingJson {
  const json = object(value, 'training-float64.json');
  const scalars = (run: Json, prefix: string) => ({
    losses: numbers(run.losses, `${prefix}losses`),
    grad_norms_before_clipping: numbers(
      run.grad_norms_before_clipping,
      `${prefix}grad_norms_before_clipping`,
    ),
  });
  const runs = object(json.float32_runs, 'float32_runs');
  const tensors = object(json.tensors, 'tensors');
  for (const [name, distances] of Object.entries(tensors)) object(distances, `tensors.${name}`);
  return {
    ...scalars(json, ''),
    fixture: scalars(object(json.fixture, 'fixture'), 'fixture.'),
    float32_runs: Object.fromEntries(
      Object.keys(runs).map((run) => [
        run,
        scalars(object(runs[run], `float32_runs.${run}`), `float32_runs.${run}.`),
      ]),
    ),
    tensors: tensors as Float64TrainingJson['tensors'],
  };
}
