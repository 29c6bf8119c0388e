import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, type Parameter, type SafetensorsReader } from '@tsformer/core-tensor';
import { AdamW } from '../adamw.js';
import { trainStep } from '../train-step.js';
import { languageModelLoss, type TrainableLanguageModel, type TrainingBatch } from '../training-batch.js';

/** training.json of a reference folder (fixtures/hf-reference/README.md, "Training reference"). */
export interface TrainingReferenceJson {
  is_encoder_decoder: boolean;
  batch: { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
  hyperparameters: {
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    max_grad_norm: number;
    steps: number;
  };
  /** The loss before each step, then after the last. */
  losses: number[];
  grad_norms_before_clipping: number[];
  /** Every trainable parameter, tied ones once (HF's `named_parameters()`). */
  parameters: string[];
  /** Parameters that get no gradient (AdamW leaves them untouched). */
  unused_parameters: string[];
}

/** The fixtures' tolerances: loss and norms relative, tensors absolute or relative on large entries. */
export const TRAINING_TOLERANCE = { lossRtol: 1e-5, normRtol: 1e-4, atol: 1e-5, rtol: 1e-4 } as const;

/** The outcome of one training check (`loss[0]`, `grad_norm[1]`, `grad.<name>`, `step3.<name>`). */
export interface TrainingCheck {
  name: string;
  pass: boolean;
  detail: string;
}

/**
 * Replays the reference's fine-tuning on `model` (loaded from the same folder) and compares each
 * part with PyTorch: the loss before each step and after the last, the gradient norm before clipping,
 * every gradient of the first backward (checkpoint layout), every parameter after the last step (an
 * unused parameter must get no gradient and stay as it was). Makes the model's parameters trainable
 * and changes them; frees every tensor it makes.
 */
export async function checkTrainingReference(
  model: TrainableLanguageModel,
  reference: TrainingReferenceJson,
  tensors: SafetensorsReader,
): Promise<TrainingCheck[]> {
  await enableGradients();
  const checks: TrainingCheck[] = [];
  const byName = new Map(model.namedParameters());
  // transformers 5 names every head `lm_head` in memory (GPT-NeoX's checkpoints still say `embed_out`).
  if (!byName.has('lm_head.weight')) byName.set('lm_head.weight', model.lmHead.weight);
  const trainable = model.makeTrainable().map(([, parameter]) => parameter);
  const unused = new Set(reference.unused_parameters);
  const { hyperparameters: h } = reference;
  const batch = referenceBatch(reference);
  const optimizer = new AdamW(trainable, {
    learningRate: h.lr,
    betas: h.betas,
    eps: h.eps,
    weightDecay: h.weight_decay,
  });
  try {
    for (let step = 0; step < h.steps; step++) {
      const result = trainStep(model, batch, optimizer, {
        maxGradNorm: h.max_grad_norm,
        keepGradients: step === 0,
      });
      checks.push(
        await scalarCheck(`loss[${step}]`, result.loss, reference.losses[step], TRAINING_TOLERANCE.lossRtol),
      );
      checks.push(
        await scalarCheck(
          `grad_norm[${step}]`,
          result.gradNorm,
          reference.grad_norms_before_clipping[step],
          TRAINING_TOLERANCE.normRtol,
        ),
      );
      if (result.gradients) {
        try {
          for (const name of reference.parameters) {
            const parameter = byName.get(name);
            const gradient = parameter && result.gradients.get(parameter);
            checks.push(await gradientCheck(name, parameter, gradient, unused.has(name), tensors));
          }
        } finally {
          tf.dispose([...result.gradients.values()]);
        }
      }
    }
    const finalLoss = languageModelLoss(model, batch);
    checks.push(
      await scalarCheck(
        `loss[${h.steps}]`,
        finalLoss,
        reference.losses[h.steps],
        TRAINING_TOLERANCE.lossRtol,
      ),
    );
    for (const name of reference.parameters) {
      const parameter = byName.get(name);
      const actual = parameter?.checkpointValue();
      checks.push(await tensorCheck(`step3.${name}`, actual, tensors));
    }
  } finally {
    optimizer.dispose();
    tf.dispose(Object.values(batch));
  }
  return checks;
}

function referenceBatch(reference: TrainingReferenceJson): TrainingBatch {
  const { input_ids, attention_mask, labels } = reference.batch;
  const matrix = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 0], 'int32');
  return { inputIds: matrix(input_ids), attentionMask: matrix(attention_mask), labels: matrix(labels) };
}

/** Compares and frees `actual` (a scalar) with `expected` within `rtol` (relative). */
async function scalarCheck(
  name: string,
  actual: tf.Scalar | undefined,
  expected: number | undefined,
  rtol: number,
): Promise<TrainingCheck> {
  if (!actual || expected === undefined) {
    actual?.dispose();
    return { name, pass: false, detail: actual ? 'not in training.json' : 'not computed' };
  }
  const value = (await actual.data())[0]!;
  actual.dispose();
  const relative = Math.abs(value - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  return {
    name,
    pass: relative <= rtol,
    detail: `${value} vs ${expected} (relative diff ${relative.toExponential(2)}, rtol ${rtol})`,
  };
}

async function gradientCheck(
  name: string,
  parameter: Parameter | undefined,
  gradient: tf.Tensor | undefined,
  unused: boolean,
  tensors: SafetensorsReader,
): Promise<TrainingCheck> {
  const label = `grad.${name}`;
  if (!parameter) return { name: label, pass: false, detail: 'the model has no parameter of this name' };
  if (unused) {
    return gradient
      ? { name: label, pass: false, detail: 'PyTorch computes no gradient here, tsformer does' }
      : { name: label, pass: true, detail: 'no gradient, as in PyTorch' };
  }
  if (!gradient) return { name: label, pass: false, detail: 'tsformer computes no gradient here' };
  return tensorCheck(label, parameter.toCheckpointLayout(gradient), tensors);
}

/**
 * Compares and frees `actual` with the reference tensor `name`: every element within 1e-5 absolute,
 * or 1e-4 relative to the expected value.
 */
async function tensorCheck(
  name: string,
  actual: tf.Tensor | undefined,
  tensors: SafetensorsReader,
): Promise<TrainingCheck> {
  if (!actual) return { name, pass: false, detail: 'the model has no parameter of this name' };
  const expected = await tensors.read(name).catch(() => undefined);
  try {
    if (!expected) return { name, pass: false, detail: 'not in training.safetensors' };
    if (actual.shape.join() !== expected.shape.join()) {
      return { name, pass: false, detail: `shape [${actual.shape}], expected [${expected.shape}]` };
    }
    const [a, e] = await Promise.all([actual.data(), expected.data()]);
    let worst = 0;
    let failures = 0;
    for (let i = 0; i < a.length; i++) {
      const difference = Math.abs(a[i]! - e[i]!);
      if (!(difference <= TRAINING_TOLERANCE.atol || difference <= TRAINING_TOLERANCE.rtol * Math.abs(e[i]!)))
        failures++;
      if (!(difference <= worst)) worst = difference;
    }
    const detail = `max |diff| ${worst.toExponential(2)} (atol ${TRAINING_TOLERANCE.atol}, rtol ${TRAINING_TOLERANCE.rtol})`;
    return {
      name,
      pass: failures === 0,
      detail: failures === 0 ? detail : `${failures} of ${a.length} elements off; ${detail}`,
    };
  } finally {
    actual.dispose();
    expected?.dispose();
  }
}
