import * as tf from '@tensorflow/tfjs-core';
import { Parameter, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { clipGradNorm } from './clip-grad-norm.js';
import { SGD } from './sgd.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function parameterOf(values: number[]): Parameter {
  const parameter = new Parameter([values.length]);
  parameter.assign(tf.tensor1d(values));
  return parameter;
}

/** Runs `steps` updates of `optimizer` with the fixed gradient `gradient` and returns the values. */
function run(parameter: Parameter, optimizer: AdamW | SGD, gradient: number[], steps: number): number[] {
  const g = tf.tensor1d(gradient);
  for (let step = 0; step < steps; step++) optimizer.step(new Map([[parameter, g]]));
  g.dispose();
  return Array.from(parameter.tensor.dataSync());
}

describe('AdamW', () => {
  it('follows torch.optim.AdamW step by step (float64 check), leaving gradient-less parameters alone', async () => {
    await expectNoLeak(() => {
      const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.999, 1e-8, 0.1];
      const parameter = parameterOf([1, -2, 0.5]);
      const untouched = parameterOf([3]);
      const optimizer = new AdamW([parameter, untouched], {
        learningRate: lr,
        betas: [b1, b2],
        eps,
        weightDecay: wd,
      });
      const g = [0.3, -0.001, 2];
      const actual = run(parameter, optimizer, g, 3);
      const p = [1, -2, 0.5];
      const m = [0, 0, 0];
      const v = [0, 0, 0];
      for (let t = 1; t <= 3; t++) {
        for (let i = 0; i < 3; i++) {
          p[i]! *= 1 - lr * wd;
          m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
          v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
          const denominator = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
          p[i]! -= (lr / (1 - b1 ** t)) * (m[i]! / denominator);
        }
      }
      for (let i = 0; i < 3; i++) expect(actual[i]).toBeCloseTo(p[i]!, 6);
      expect(Array.from(untouched.tensor.dataSync())).toEqual([3]);
      expect(untouched.version).toBe(1);
      optimizer.dispose();
      parameter.dispose();
      untouched.dispose();
    });
  });
});

describe('SGD', () => {
  it('follows torch.optim.SGD with momentum, dampening and weight decay (float64 check)', async () => {
    await expectNoLeak(() => {
      const [lr, mu, damp, wd] = [0.1, 0.9, 0.2, 0.01];
      const parameter = parameterOf([1, -1]);
      const optimizer = new SGD([parameter], {
        learningRate: lr,
        momentum: mu,
        dampening: damp,
        weightDecay: wd,
      });
      const g = [0.5, 2];
      const actual = run(parameter, optimizer, g, 3);
      const p = [1, -1];
      const buffer: (number | undefined)[] = [undefined, undefined];
      for (let t = 0; t < 3; t++) {
        for (let i = 0; i < 2; i++) {
          const d = g[i]! + wd * p[i]!;
          buffer[i] = buffer[i] === undefined ? d : mu * buffer[i]! + (1 - damp) * d;
          p[i]! -= lr * buffer[i]!;
        }
      }
      for (let i = 0; i < 2; i++) expect(actual[i]).toBeCloseTo(p[i]!, 6);
      optimizer.dispose();
      parameter.dispose();
    });
  });

  it('rejects Nesterov without momentum', () => {
    const parameter = parameterOf([1]);
    expect(() => new SGD([parameter], { nesterov: true })).toThrow(/Nesterov/);
    parameter.dispose();
  });
});

describe('clipGradNorm', () => {
  it('scales by max_norm / (total + 1e-6) when above, leaves the given gradients as they are', async () => {
    await expectNoLeak(() => {
      const a = parameterOf([0, 0]);
      const b = parameterOf([0]);
      const ga = tf.tensor1d([3, 0]);
      const gb = tf.tensor1d([4]);
      const { gradients, totalNorm } = clipGradNorm(
        new Map([
          [a, ga],
          [b, gb],
        ]),
        1,
      );
      expect(totalNorm.dataSync()[0]).toBeCloseTo(5, 6);
      const coefficient = 1 / (5 + 1e-6);
      expect(gradients.get(a)!.dataSync()[0]).toBeCloseTo(3 * coefficient, 7);
      expect(gradients.get(b)!.dataSync()[0]).toBeCloseTo(4 * coefficient, 7);
      expect(Array.from(ga.dataSync())).toEqual([3, 0]);
      const under = clipGradNorm(new Map([[b, gb]]), 10);
      expect(under.gradients.get(b)!.dataSync()[0]).toBe(4);
      tf.dispose([ga, gb, totalNorm, ...gradients.values(), under.totalNorm, ...under.gradients.values()]);
      a.dispose();
      b.dispose();
    });
  });
});
