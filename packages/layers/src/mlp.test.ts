import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { addRow, loadRandomWeights, matMul, randomValues, transpose } from '../test/float64.js';
import { GatedMLP } from './gated-mlp.js';
import { MLP } from './mlp.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const hidden = 6;
const intermediate = 10;
const tokens = 4;
const input = randomValues(tokens * hidden, 21);

describe('MLP', () => {
  it('is c_proj(gelu_new(c_fc(x))) with Conv1D projections (GPT-2)', async () => {
    await expectNoLeak(() => {
      const mlp = new MLP({
        hiddenSize: hidden,
        intermediateSize: intermediate,
        activation: 'gelu_new',
        inputName: 'c_fc',
        outputName: 'c_proj',
        projection: 'conv1d',
        dropout: 0.1,
      });
      expect(mlp.namedParameters().map(([name, p]) => `${name}:${p.shape}`)).toEqual([
        `c_fc.weight:${hidden},${intermediate}`,
        `c_fc.bias:${intermediate}`,
        `c_proj.weight:${intermediate},${hidden}`,
        `c_proj.bias:${hidden}`,
      ]);
      const weights = loadRandomWeights(mlp, 3);
      const values = (name: string) => weights.get(name)!;
      const x = tf.tensor2d(input, [tokens, hidden]);
      const y = mlp.forward(x); // eval mode: dropout is the identity
      const h = addRow(matMul(input, hidden, values('c_fc.weight'), intermediate), values('c_fc.bias'));
      const act = h.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
      const expected = addRow(
        matMul(act, intermediate, values('c_proj.weight'), hidden),
        values('c_proj.bias'),
      );
      assertClose(y, expected, 1e-5, 'mlp');
      tf.dispose([x, y]);
      mlp.dispose();
    });
  });

  it('uses nn.Linear projections named fc1/fc2 by default', () => {
    const mlp = new MLP({ hiddenSize: 2, intermediateSize: 3, activation: 'relu', bias: false });
    expect(mlp.namedParameters().map(([name, p]) => `${name}:${p.shape}`)).toEqual([
      'fc1.weight:3,2',
      'fc2.weight:2,3',
    ]);
  });
});

describe('GatedMLP', () => {
  it('is down_proj(silu(gate_proj(x)) * up_proj(x)) (SwiGLU)', async () => {
    await expectNoLeak(() => {
      const mlp = new GatedMLP({ hiddenSize: hidden, intermediateSize: intermediate, activation: 'silu' });
      expect(mlp.namedParameters().map(([name]) => name)).toEqual([
        'gate_proj.weight',
        'up_proj.weight',
        'down_proj.weight',
      ]);
      const weights = loadRandomWeights(mlp, 4);
      const x = tf.tensor3d(input, [1, tokens, hidden]);
      const y = mlp.forward(x);
      const project = (rows: number[], name: string, inF: number, outF: number) =>
        matMul(rows, inF, transpose(weights.get(name)!, outF, inF), outF);
      const gate = project(input, 'gate_proj.weight', hidden, intermediate);
      const up = project(input, 'up_proj.weight', hidden, intermediate);
      const product = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      assertClose(y, project(product, 'down_proj.weight', intermediate, hidden), 1e-5, 'gated mlp');
      tf.dispose([x, y]);
      mlp.dispose();
    });
  });

  it('has biases on all three projections with mlp_bias', () => {
    const mlp = new GatedMLP({ hiddenSize: 2, intermediateSize: 3, activation: 'silu', bias: true });
    expect(mlp.numParameters()).toBe(3 * (2 * 3) + 3 + 3 + 2);
  });

  it('reads gate and up as the [gate | up] halves of one gate_up_proj when fused (Phi-3)', async () => {
    await expectNoLeak(() => {
      const mlp = new GatedMLP({
        hiddenSize: hidden,
        intermediateSize: intermediate,
        activation: 'gelu_pytorch_tanh',
        fusedGateUp: true,
      });
      expect(mlp.namedParameters().map(([name, p]) => `${name}:${p.shape}`)).toEqual([
        `gate_up_proj.weight:${2 * intermediate},${hidden}`,
        `down_proj.weight:${hidden},${intermediate}`,
      ]);
      const weights = loadRandomWeights(mlp, 5);
      const x = tf.tensor2d(input, [tokens, hidden]);
      const y = mlp.forward(x);
      const fused = matMul(
        input,
        hidden,
        transpose(weights.get('gate_up_proj.weight')!, 2 * intermediate, hidden),
        2 * intermediate,
      );
      const product: number[] = [];
      for (let t = 0; t < tokens; t++) {
        for (let i = 0; i < intermediate; i++) {
          const g = fused[t * 2 * intermediate + i]!;
          const u = fused[t * 2 * intermediate + intermediate + i]!;
          product.push(0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3))) * u);
        }
      }
      const down = transpose(weights.get('down_proj.weight')!, hidden, intermediate);
      assertClose(y, matMul(product, intermediate, down, hidden), 1e-5, 'fused gated mlp');
      tf.dispose([x, y]);
      mlp.dispose();
    });
  });
});
