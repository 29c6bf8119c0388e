import * as tf from '@tensorflow/tfjs-core';
import { decodeAttention, enableWebgpuAttention, MASKED_SCORE } from '@tsformer/attention';
import { Parameter, SeededRandom } from '@tsformer/core-tensor';
import { enableWebgpuKernels, gemmGrid, webgpuLinearWithEpilogue } from '@tsformer/kernels';
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

/** Forced splits of `in` the ops section times beside the grid rule's choice (1: no split). */
const FORCED_SPLITS = [1, 2, 4, 8, 16];

/**
 * The prefill's ops alone on webgpu, GPU time per call (see `perCall`): each projection shape of GPT-2-124M
 * at `rows` and at 32 rows through tsformer's GEMM with its epilogue — the grid rule's split of `in`
 * (`gemmGrid`) and forced splits, 1 being none — and through tfjs's `matMul` + epilogue ops, the fastest
 * named; then causal attention over `rows` queries and keys through tsformer's prefill kernel and the
 * portable (tfjs) attention, for GPT-2's heads and tiny-llama-docs' grouped ones.
 */
export async function measurePrefillOps(rows: number) {
  enableWebgpuKernels();
  enableWebgpuAttention();
  const random = new SeededRandom(1);
  const results: object[] = [];
  const gelu = {
    name: 'gelu_new',
    apply: (x: tf.Tensor) =>
      tf.mul(
        tf.mul(x, 0.5),
        tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), 0.7978845608))),
      ),
  };
  for (const gemmRows of [...new Set([rows, 32])]) {
    for (const [name, inF, outF, epilogue] of [
      ['c_attn', 768, 2304, 'bias'],
      ['attn.c_proj', 768, 768, 'bias'],
      ['mlp.c_fc', 768, 3072, 'gelu'],
      ['mlp.c_proj', 3072, 768, 'residual'],
      ['tiny-llama mlp', 288, 768, 'bias'],
    ] as const) {
      const x = tf.tensor2d(random.normalArray(gemmRows * inF, 1), [gemmRows, inF]);
      // GPT-2's Conv1D layout, [in, out], as the model stores it.
      const weight = parameter([inF, outF], random);
      const bias = parameter([outF], random);
      const residual = tf.tensor2d(random.normalArray(gemmRows * outF, 1), [gemmRows, outF]);
      const projection = { weight, bias, layout: 'in-out' as const };
      const fused = epilogue === 'gelu' ? { activation: gelu } : epilogue === 'residual' ? { residual } : {};
      const gflop = (2 * gemmRows * inF * outF) / 1e9;
      const timed = async (op: () => tf.Tensor) => {
        const figures = await perCall(op);
        return { ...figures, tflops: round(gflop / figures.msPerCall, 3) };
      };
      const rule = gemmGrid(gemmRows, inF, outF);
      const candidates: Record<string, Awaited<ReturnType<typeof timed>>> = {};
      const splits = new Set([
        rule.splits,
        ...FORCED_SPLITS.map((n) => gemmGrid(gemmRows, inF, outF, { splits: n }).splits),
      ]);
      for (const n of [...splits].sort((a, b) => a - b)) {
        candidates[`tsformer splits ${n}`] = await timed(
          () => webgpuLinearWithEpilogue(x, projection, fused, { splits: n })!,
        );
      }
      candidates.tfjs = await timed(() =>
        tf.tidy(() => {
          const y = tf.add(tf.matMul(x, weight.tensor), bias.tensor);
          return epilogue === 'gelu' ? gelu.apply(y) : epilogue === 'residual' ? tf.add(residual, y) : y;
        }),
      );
      const fastest = Object.entries(candidates).sort(([, a], [, b]) => a.msPerCall - b.msPerCall)[0]![0];
      results.push({
        op: `linear ${name} [${gemmRows}, ${inF}] x [${inF}, ${outF}] + ${epilogue}`,
        rule,
        fastest,
        ...candidates,
      });
      console.error(JSON.stringify(results.at(-1)));
      tf.dispose([x, residual]);
      weight.dispose();
      bias.dispose();
    }
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
