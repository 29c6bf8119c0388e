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

/**
 * The fixtures' tolerances: loss and norms relative; gradients absolute, or relative on large entries;
 * weights after the last step absolute (`weightAtol`), on the elements whose PyTorch gradient is above
 * the float32 noise floor: `noiseFloor` times the largest |gradient| of the model (see the README).
 */
export const TRAINING_TOLERANCE = {
  lossRtol: 1e-5,
  normRtol: 1e-4,
  atol: 1e-5,
  rtol: 1e-4,
  weightAtol: 1e-5,
  noiseFloor: 2 ** -20,
} as const;

/**
 * The training checks that do not match PyTorch yet, by fixtures/hf-reference folder, for the tests
 * (training's and `tsformer check-parity`'s) to tell an open mismatch from a regression: every other
 * check must pass (the README's "Weights after the last step" says why the noise-floor elements
 * are reported, not compared):
 * - bart after its first update: losses and gradient norms drift by ~5e-4 relative. Not a bug in
 *   step 1 (started from PyTorch's first update it matches, see training-parity.test.ts): a few
 *   first gradients far below their tensor's scale (encoder.embed_positions, ahead of
 *   layernorm_embedding) differ within the gradient tolerance but near AdamW's eps, where its first
 *   step still depends on |g| (open: the training README);
 * - final weights above the noise floor where 1 or 2 elements of a tensor are off by 1.0e-5 to
 *   2.9e-5 (within 1e-4 relative, not within the 1e-5 absolute the issue asks) (open; which elements
 *   are off can change from run to run on wasm).
 */
export const KNOWN_TRAINING_MISMATCHES: Readonly<Record<string, RegExp>> = {
  bart: /^(loss\[[1-3]\]|grad_norm\[[12]\]|step3\.)/,
  llama:
    /^step3\.(model\.(embed_tokens|layers\.[01]\.(self_attn\.[qko]_proj|mlp\.(gate|up|down)_proj))|lm_head)\.weight$/,
  qwen3: /^step3\.model\.layers\.0\.self_attn\.o_proj\.weight$/,
  gpt_neox: /^step3\.gpt_neox\.layers\.0\.mlp\.dense_h_to_4h\.weight$/,
  marian: /^step3\.model\.encoder\.layers\.1\.fc1\.weight$/, // off in some runs, not in others
};

/**
 * The outcome of one training check (`loss[0]`, `grad_norm[1]`, `grad.<name>`, `step3.<name>`), or,
 * when `reported`, a measurement shown but not compared (`step3.noise_floor`): `pass` is then true.
 */
export interface TrainingCheck {
  name: string;
  pass: boolean;
  detail: string;
  reported?: boolean;
}

/**
 * Replays the reference's fine-tuning on `model` (loaded from the same folder) and compares each
 * part with PyTorch: the loss before each step and after the last, the gradient norm before clipping,
 * every gradient of the first backward (checkpoint layout), every parameter after the last step (an
 * unused parameter must get no gradient and stay as it was), leaving out of the last the elements
 * whose gradient is float32 noise and reporting them in one more check, `step3.noise_floor`. Makes the model's parameters trainable
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
  const floor = TRAINING_TOLERANCE.noiseFloor * (await largestGradient(reference, tensors));
  /** By parameter: 1 where the first gradient is float32 noise around zero (`atNoiseFloor`). */
  const noiseMasks = new Map<string, Uint8Array>();
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
            const inspect = (ours: tf.TypedArray, theirs: tf.TypedArray) =>
              noiseMasks.set(name, atNoiseFloor(ours, theirs, floor));
            checks.push(await gradientCheck(name, parameter, gradient, unused.has(name), tensors, inspect));
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
    const noise = new NoiseFloorReport(floor);
    for (const name of reference.parameters) {
      const actual = byName.get(name)?.checkpointValue();
      checks.push(await weightCheck(name, actual, noiseMasks.get(name), noise, tensors));
    }
    checks.push(noise.check());
  } finally {
    optimizer.dispose();
    tf.dispose(Object.values(batch));
  }
  return checks;
}

/** The largest |gradient| PyTorch computed on the first backward, over every parameter. */
async function largestGradient(
  reference: TrainingReferenceJson,
  tensors: SafetensorsReader,
): Promise<number> {
  let largest = 0;
  for (const name of reference.parameters) {
    const gradient = await tensors.read(`grad.${name}`).catch(() => undefined);
    if (!gradient) continue;
    const values = await gradient.data();
    gradient.dispose();
    for (const value of values) largest = Math.max(largest, Math.abs(value));
  }
  return largest;
}

/**
 * 1 where PyTorch's first gradient is within `floor` of zero, unless both frameworks computed exactly
 * zero there (an embedding row the batch does not use: only weight decay moves it, deterministically).
 */
function atNoiseFloor(ours: tf.TypedArray, theirs: tf.TypedArray, floor: number): Uint8Array {
  const mask = new Uint8Array(theirs.length);
  for (let i = 0; i < theirs.length; i++) {
    const bothZero = theirs[i] === 0 && ours[i] === 0;
    mask[i] = !bothZero && Math.abs(theirs[i]!) <= floor ? 1 : 0;
  }
  return mask;
}

/** The elements of the final weights left out of their check: how many, and the worst difference. */
class NoiseFloorReport {
  private elements = 0;
  private parameters = 0;
  private worst = 0;
  private worstIn = '';

  constructor(private readonly floor: number) {}

  add(name: string, elements: number, worst: number): void {
    if (elements === 0) return;
    this.elements += elements;
    this.parameters += 1;
    if (worst > this.worst || this.worstIn === '') [this.worst, this.worstIn] = [worst, name];
  }

  check(): TrainingCheck {
    const where = `a first gradient |g| <= ${this.floor.toExponential(2)} (PyTorch's)`;
    const detail =
      this.elements === 0
        ? `no element with ${where}`
        : `${this.elements} elements in ${this.parameters} parameters with ${where}, not compared: worst |diff| ${this.worst.toExponential(2)} (${this.worstIn})`;
    return { name: 'step3.noise_floor', pass: true, reported: true, detail };
  }
}

/**
 * Compares and frees the final value of parameter `name` with `step3.<name>`, every element within
 * `weightAtol`, except those of `noiseMask` (a first gradient that is float32 noise around a true
 * zero, whose sign AdamW's first steps turn into ±lr), which go to `noise` instead.
 */
async function weightCheck(
  name: string,
  actual: tf.Tensor | undefined,
  noiseMask: Uint8Array | undefined,
  noise: NoiseFloorReport,
  tensors: SafetensorsReader,
): Promise<TrainingCheck> {
  const label = `step3.${name}`;
  if (!actual) return { name: label, pass: false, detail: 'the model has no parameter of this name' };
  const expected = await tensors.read(label).catch(() => undefined);
  try {
    if (!expected) return { name: label, pass: false, detail: 'not in training.safetensors' };
    if (actual.shape.join() !== expected.shape.join()) {
      return { name: label, pass: false, detail: `shape [${actual.shape}], expected [${expected.shape}]` };
    }
    const [a, e] = await Promise.all([actual.data(), expected.data()]);
    let [compared, failures, worst, noiseElements, noiseWorst] = [0, 0, 0, 0, 0];
    for (let i = 0; i < a.length; i++) {
      const difference = Math.abs(a[i]! - e[i]!);
      if (noiseMask?.[i]) {
        noiseElements++;
        if (!(difference <= noiseWorst)) noiseWorst = difference;
        continue;
      }
      compared++;
      if (!(difference <= TRAINING_TOLERANCE.weightAtol)) failures++;
      if (!(difference <= worst)) worst = difference;
    }
    noise.add(name, noiseElements, noiseWorst);
    const skipped = noiseElements > 0 ? `; ${noiseElements} at the noise floor not compared` : '';
    const detail = `max |diff| ${worst.toExponential(2)} (atol ${TRAINING_TOLERANCE.weightAtol})${skipped}`;
    return {
      name: label,
      pass: failures === 0,
      detail: failures === 0 ? detail : `${failures} of ${compared} elements off; ${detail}`,
    };
  } finally {
    actual.dispose();
    expected?.dispose();
  }
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
  inspect: (ours: tf.TypedArray, theirs: tf.TypedArray) => void,
): Promise<TrainingCheck> {
  const label = `grad.${name}`;
  if (!parameter) return { name: label, pass: false, detail: 'the model has no parameter of this name' };
  if (unused) {
    return gradient
      ? { name: label, pass: false, detail: 'PyTorch computes no gradient here, tsformer does' }
      : { name: label, pass: true, detail: 'no gradient, as in PyTorch' };
  }
  if (!gradient) return { name: label, pass: false, detail: 'tsformer computes no gradient here' };
  return tensorCheck(label, parameter.toCheckpointLayout(gradient), tensors, inspect);
}

/**
 * Compares and frees `actual` (a gradient) with the reference tensor `name`: every element within
 * 1e-5 absolute, or 1e-4 relative to the expected value. `inspect` sees both values first.
 */
async function tensorCheck(
  name: string,
  actual: tf.Tensor | undefined,
  tensors: SafetensorsReader,
  inspect: (actual: tf.TypedArray, expected: tf.TypedArray) => void,
): Promise<TrainingCheck> {
  if (!actual) return { name, pass: false, detail: 'the model has no parameter of this name' };
  const expected = await tensors.read(name).catch(() => undefined);
  try {
    if (!expected) return { name, pass: false, detail: 'not in training.safetensors' };
    if (actual.shape.join() !== expected.shape.join()) {
      return { name, pass: false, detail: `shape [${actual.shape}], expected [${expected.shape}]` };
    }
    const [a, e] = await Promise.all([actual.data(), expected.data()]);
    inspect(a, e);
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
