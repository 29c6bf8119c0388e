import * as tf from '@tensorflow/tfjs-core';
import { Parameter, TsformerError, useBackend } from '@tsformer/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { LearningRateScheduler, learningRateFactor } from './scheduler.js';
import { SGD } from './sgd.js';

beforeAll(async () => {
  await useBackend('wasm');
});

// HF's lr_lambda values for warmup 3, 10 training steps, computed in Python's float64 from
// transformers' optimization.py formulas (independently of this code): [step, constant_with_warmup, linear, cosine].
const TABLE: [number, number, number, number][] = [
  [0, 0, 0, 0],
  [1, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333],
  [2, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666],
  [3, 1, 1, 1],
  [5, 1, 0.7142857142857143, 0.8117449009293668],
  [7, 1, 0.42857142857142855, 0.38873953302184283],
  [10, 1, 0, 0],
  // Past the end, cosine climbs back up (HF does not clamp progress).
  [12, 1, 0, 0.18825509907063315],
];

describe('learningRateFactor', () => {
  it("matches transformers' lr_lambda for every schedule, step by step", () => {
    const options = { warmupSteps: 3, trainingSteps: 10 };
    for (const [step, constantWithWarmup, linear, cosine] of TABLE) {
      expect(learningRateFactor('constant', step, options)).toBe(1);
      expect(learningRateFactor('constant_with_warmup', step, options)).toBeCloseTo(constantWithWarmup, 15);
      expect(learningRateFactor('linear', step, options)).toBeCloseTo(linear, 15);
      expect(learningRateFactor('cosine', step, options)).toBeCloseTo(cosine, 15);
    }
  });

  it('without warmup starts at the full rate', () => {
    expect(learningRateFactor('linear', 0, { trainingSteps: 4 })).toBe(1);
    expect(learningRateFactor('linear', 1, { trainingSteps: 4 })).toBe(0.75);
  });

  it('refuses a decaying schedule without trainingSteps and bad counts, naming the option', () => {
    expect(() => learningRateFactor('cosine', 0)).toThrow(/cosine scheduler needs trainingSteps/);
    expect(() => learningRateFactor('linear', 0, { warmupSteps: -1, trainingSteps: 3 })).toThrow(
      /warmupSteps must be an integer/,
    );
    expect(() => learningRateFactor('linear', 0, { trainingSteps: 0 })).toThrow(TsformerError);
  });
});

describe('LearningRateScheduler', () => {
  it('sets the optimizer rate as LambdaLR does: factor(0) at once, then one step per update; restore resumes', () => {
    const parameter = new Parameter([1]);
    parameter.assign(tf.tensor1d([1]));
    const optimizer = new SGD([parameter], { learningRate: 0.5 });
    const scheduler = new LearningRateScheduler('linear', optimizer, { warmupSteps: 3, trainingSteps: 10 });
    const seen = [optimizer.learningRate];
    for (let i = 0; i < 5; i++) {
      scheduler.step();
      seen.push(optimizer.learningRate);
    }
    expect(seen.map((rate) => rate / 0.5)).toEqual([0, 1 / 3, 2 / 3, 1, 6 / 7, 5 / 7]);
    expect(scheduler.stepCount).toBe(5);

    const resumed = new LearningRateScheduler('linear', new SGD([parameter], { learningRate: 0.5 }), {
      warmupSteps: 3,
      trainingSteps: 10,
    });
    resumed.restore(5);
    expect(resumed.learningRate).toBe(optimizer.learningRate);
    expect(() => new LearningRateScheduler('step' as 'linear', optimizer)).toThrow(
      /unknown scheduler "step"/,
    );
    parameter.dispose();
  });
});
