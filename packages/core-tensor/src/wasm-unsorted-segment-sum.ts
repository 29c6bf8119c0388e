import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's `BackendWasm` a JavaScript kernel uses (kept structural: no import). */
interface WasmKernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

/**
 * `UnsortedSegmentSum` for the wasm backend, which has none: the kernel behind the gradient of
 * `gather` (embedding tables, position tables, T5's relative-attention bias). Row `i` of `x`
 * (`[n, ...inner]`) is added to row `segmentIds[i]` of the `[numSegments, ...inner]` output, in index
 * order, in float32: exact, and linear in the size of `x`. Reads and writes the wasm heap directly
 * (the data lives there; nothing is downloaded). Segment ids outside `[0, numSegments)` are dropped,
 * as TensorFlow's kernel does.
 */
function unsortedSegmentSum({
  inputs,
  backend,
  attrs,
}: tf.NamedAttrMap & {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const wasm = backend as WasmKernelBackend;
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = attrs.numSegments as number;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views taken after the allocation: growing the heap detaches earlier ones.
  const values = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  const sums = wasm.typedArrayFromHeap(out);
  sums.fill(0);
  for (let row = 0; row < rows; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * inner;
    const to = segment * inner;
    for (let k = 0; k < inner; k++) sums[to + k]! += values[from + k]!;
  }
  return out;
}

/** Registers the kernels the wasm backend lacks for training (once; a later call does nothing). */
export function registerWasmGradientKernels(): void {
  if (tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) return;
  tf.registerKernel({
    kernelName: tf.UnsortedSegmentSum,
    backendName: 'wasm',
    kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
  });
}
