// Plain-JS float64 references for layer tests: written with loops, independent of tfjs.
import * as tf from '@tensorflow/tfjs-core';
import { type Module, SeededRandom } from '@tsformer/core-tensor';

/** `count` seeded normal draws as a plain array. */
export function randomValues(count: number, seed: number, std = 1): number[] {
  return Array.from(new SeededRandom(seed).normalArray(count, std));
}

/** `rows[r] · matrix` where `matrix` is `[inner, cols]` row-major. */
export function matMul(rows: number[], inner: number, matrix: number[], cols: number): number[] {
  const count = rows.length / inner;
  const out = new Array<number>(count * cols).fill(0);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += rows[r * inner + k]! * matrix[k * cols + c]!;
      out[r * cols + c] = sum;
    }
  }
  return out;
}

/** `[rows, cols]` -> `[cols, rows]`. */
export function transpose(matrix: number[], rows: number, cols: number): number[] {
  const out = new Array<number>(matrix.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c]!;
  return out;
}

/** Adds `bias` to every row. */
export function addRow(rows: number[], bias: number[]): number[] {
  return rows.map((value, i) => value + bias[i % bias.length]!);
}

/** erf by Simpson integration of 2/√π·e^(-t²) (accurate to ~1e-12 here). */
export function erf(x: number): number {
  const steps = 2000;
  const h = x / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const weight = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    sum += weight * Math.exp(-((i * h) ** 2));
  }
  return ((sum * h) / 3) * (2 / Math.sqrt(Math.PI));
}

/**
 * Fills every parameter of `module` with seeded normal values given in the checkpoint layout, and
 * returns those values by dotted name (what a reference computation reads).
 */
export function loadRandomWeights(module: Module, seed: number, std = 0.5): Map<string, number[]> {
  const values = new Map<string, number[]>();
  module.namedParameters().forEach(([name, parameter], index) => {
    const data = randomValues(parameter.size, seed * 1000 + index, std);
    parameter.assign(tf.tensor(data, [...parameter.shape]));
    values.set(name, data);
  });
  return values;
}
