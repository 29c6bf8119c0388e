import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-webgpu's `WebGPUBackend` this kernel uses (structural: no import). */
interface WebgpuKernelBackend {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/**
 * tfjs-backend-webgpu 4.22's `SoftmaxProgram` starts each row's maximum at the literal `-3.402823e+38`,
 * which float32 rounds to a value above `-3.4028234663852886e38` (`torch.finfo(float32).min`, what
 * Hugging Face's masks add and tsformer's `MASKED_SCORE`). A row whose every logit is masked keeps that
 * start value as its "maximum", every `exp(x - max)` underflows to 0, and the row becomes 0 / 0 = NaN
 * (CPU and wasm give the uniform row PyTorch gives). The NaN then spreads through the values of the
 * padding positions into every later layer: left-padded batches generated wrong tokens on WebGPU.
 *
 * This program starts the maximum at the row's first logit instead; the rest is the same three
 * passes (max, sum of exponentials, normalise) with one workgroup per row.
 */
class RowSoftmaxProgram {
  readonly variableNames = ['logits'];
  readonly outputShape: [number, number];
  readonly dispatchLayout = { x: [0, 1] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  readonly shaderKey = 'tsformerRowSoftmax';

  constructor(rows: number, columns: number) {
    this.outputShape = [rows, columns];
    this.dispatch = [rows, 1, 1];
    this.workgroupSize = [columns >= 4096 ? 256 : 64, 1, 1];
  }

  getUserCode(): string {
    const threads = this.workgroupSize[0];
    return `
      var<workgroup> partial : array<f32, ${threads}>;
      var<workgroup> rowMax : f32;
      var<workgroup> rowSum : f32;
      fn main(index : i32) {
        let row = index / ${threads};
        let tid = i32(localId.x);
        let columns = uniforms.outShape[1];

        var threadMax = getLogits(row, 0);
        for (var column = tid; column < columns; column += ${threads}) {
          threadMax = max(threadMax, getLogits(row, column));
        }
        partial[tid] = threadMax;
        workgroupBarrier();
        for (var stride = ${threads / 2}; stride > 0; stride = stride / 2) {
          if (tid < stride) { partial[tid] = max(partial[tid], partial[tid + stride]); }
          workgroupBarrier();
        }
        if (tid == 0) { rowMax = partial[0]; }
        workgroupBarrier();

        var threadSum = 0.0;
        for (var column = tid; column < columns; column += ${threads}) {
          threadSum += exp(getLogits(row, column) - rowMax);
        }
        partial[tid] = threadSum;
        workgroupBarrier();
        for (var stride = ${threads / 2}; stride > 0; stride = stride / 2) {
          if (tid < stride) { partial[tid] = partial[tid] + partial[tid + stride]; }
          workgroupBarrier();
        }
        if (tid == 0) { rowSum = partial[0]; }
        workgroupBarrier();

        for (var column = tid; column < columns; column += ${threads}) {
          setOutputAtCoords(row, column, exp(getLogits(row, column) - rowMax) / rowSum);
        }
      }
    `;
  }
}

/** `Softmax` over the last axis (tfjs's only softmax axis), any rank, through `RowSoftmaxProgram`. */
function softmax({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const webgpu = backend as WebgpuKernelBackend;
  const logits = inputs.logits!;
  const columns = logits.shape.at(-1) ?? 1;
  const rows = logits.shape.reduce((a, b) => a * b, 1) / columns;
  // The backend's own Reshape shares the buffer (a new reference, nothing copied), as tfjs's kernel does.
  const reshape = (x: tf.TensorInfo, shape: number[]) =>
    tf
      .getKernel(tf.Reshape, 'webgpu')!
      .kernelFunc({ inputs: { x }, backend, attrs: { shape } } as never) as tf.TensorInfo;
  const flat = reshape(logits, [rows, columns]);
  const output = webgpu.runWebGPUProgram(new RowSoftmaxProgram(rows, columns), [flat], logits.dtype);
  const result = reshape(output, [...logits.shape]);
  webgpu.disposeData(flat.dataId);
  webgpu.disposeData(output.dataId);
  return result;
}

/**
 * Replaces tfjs-backend-webgpu's `Softmax` kernel with one that keeps a fully masked row finite (see
 * `RowSoftmaxProgram`). Idempotent; called when the webgpu backend is set up.
 */
export function registerWebgpuSoftmax(): void {
  if (tf.getKernel(tf.Softmax, 'webgpu')?.kernelFunc === (softmax as unknown as tf.KernelFunc)) return;
  if (tf.getKernel(tf.Softmax, 'webgpu')) tf.unregisterKernel(tf.Softmax, 'webgpu');
  tf.registerKernel({
    kernelName: tf.Softmax,
    backendName: 'webgpu',
    kernelFunc: softmax as unknown as tf.KernelFunc,
  });
}
