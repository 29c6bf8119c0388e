import * as tf from '@tensorflow/tfjs-core';
import { decodeAttention, enableWebgpuAttention, MASKED_SCORE } from '@tsformer/attention';
import { Parameter, SeededRandom } from '@tsformer/core-tensor';
import { enableWebgpuKernels, linear, linearActivation, linearResidual } from '@tsformer/kernels';
import { round } from './measure.js';

/** Calls of one op queued back to back before the one read-back that times them. */
const REPEATS = 50;

/**
 * Milliseconds per call of `op` when `REPEATS` calls are queued back to back and then read back once
 * (median of 5 such rounds): the GPU time of one call where the GPU is the bottleneck, else the
 * JavaScript of one call (also reported, as the time to queue them).
 */
async function perCall(op: () => tf.Tensor) {
  for (let i = 0; i < 3; i++) {
    const warm = op();
    await warm.data();
    warm.dispose();
  }
  const rounds = [];
  const queueing = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < REPEATS; i++) {
      last?.dispose();
      last = op();
    }
    queueing.push((performance.now() - start) / REPEATS);
    await last!.data();
    last!.dispose();
    rounds.push((performance.now() - start) / REPEATS);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
  return { msPerCall: round(median(rounds), 4), javascriptMsPerCall: round(median(queueing), 4) };
}

function parameter(shape: number[], random: SeededRandom): Parameter {
  const p = new Parameter(shape);
  p.assign(
    tf.tensor(
      random.normalArray(
        shape.reduce((a, b) => a * b, 1),
        0.02,
      ),
      shape,
    ),
  );
  return p;
}

/**
 * The prefill's ops alone on webgpu, GPU time per call (see `perCall`): each projection shape of GPT-2-124M
 * at 128 rows through tsformer's GEMM (`linear` and its fused forms, with their epilogues) and through
 * tfjs's `matMul` + bias add, and causal attention over 128 queries and keys through tsformer's prefill
 * kernel and the portable (tfjs) attention, for GPT-2's heads and tiny-llama-docs' grouped ones.
 */
export async function measurePrefillOps(rows: number) {
  enableWebgpuKernels();
  enableWebgpuAttention();
  const random = new SeededRandom(1);
  const results = [];
  const gelu = {
    name: 'gelu_new',
    apply: (x: tf.Tensor) =>
      tf.mul(
        tf.mul(x, 0.5),
        tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), 0.7978845608))),
      ),
  };
  for (const [name, inF, outF, epilogue] of [
    ['c_attn', 768, 2304, 'bias'],
    ['attn.c_proj', 768, 768, 'bias'],
    ['mlp.c_fc', 768, 3072, 'gelu'],
    ['mlp.c_proj', 3072, 768, 'residual'],
    ['tiny-llama mlp', 288, 768, 'bias'],
  ] as const) {
    const x = tf.tensor2d(random.normalArray(rows * inF, 1), [rows, inF]);
    // GPT-2's Conv1D layout, [in, out], as the model stores it.
    const weight = parameter([inF, outF], random);
    const bias = parameter([outF], random);
    const residual = tf.tensor2d(random.normalArray(rows * outF, 1), [rows, outF]);
    const projection = { weight, bias, layout: 'in-out' as const };
    const ours = () =>
      epilogue === 'gelu'
        ? linearActivation(x, projection, gelu)
        : epilogue === 'residual'
          ? linearResidual(x, projection, residual)
          : linear(x, weight, bias, 'in-out');
    const tfjs = () =>
      tf.tidy(() => {
        const y = tf.add(tf.matMul(x, weight.tensor), bias.tensor);
        return epilogue === 'gelu' ? gelu.apply(y) : epilogue === 'residual' ? tf.add(residual, y) : y;
      });
    const gflop = (2 * rows * inF * outF) / 1e9;
    const tsformer = await perCall(ours);
    const tfjsFigures = await perCall(tfjs);
    results.push({
      op: `linear ${name} [${rows}, ${inF}] x [${inF}, ${outF}] + ${epilogue}`,
      tsformer: { ...tsformer, tflops: round(gflop / tsformer.msPerCall, 3) },
      tfjs: { ...tfjsFigures, tflops: round(gflop / tfjsFigures.msPerCall, 3) },
    });
    console.error(JSON.stringify(results.at(-1)));
    tf.dispose([x, residual]);
    weight.dispose();
    bias.dispose();
  }
  for (const [name, heads, kvHeads, headDim] of [
    ['gpt2', 12, 12, 64],
    ['tiny-llama-docs', 6, 2, 48],
  ] as const) {
    const query = tf.tensor4d(random.normalArray(heads * rows * headDim, 1), [1, heads, rows, headDim]);
    const key = tf.tensor4d(random.normalArray(kvHeads * rows * headDim, 1), [1, kvHeads, rows, headDim]);
    const value = tf.tensor4d(random.normalArray(kvHeads * rows * headDim, 1), [1, kvHeads, rows, headDim]);
    const maskValues = new Float32Array(rows * rows);
    for (let q = 0; q < rows; q++) for (let k = q + 1; k < rows; k++) maskValues[q * rows + k] = MASKED_SCORE;
    const mask = tf.tensor4d(maskValues, [1, 1, rows, rows]);
    const input = { query, keyValues: { keys: [key], values: [value], keyStart: 0, keyLength: rows }, mask };
    results.push({
      op: `attention ${name} ${heads}/${kvHeads} heads of ${headDim}, ${rows} queries and keys, causal`,
      tsformer: await perCall(() => decodeAttention(input).output),
      tfjs: await perCall(() => decodeAttention.portable(input).output),
    });
    console.error(JSON.stringify(results.at(-1)));
    tf.dispose([query, key, value, mask]);
  }
  return results;
}
