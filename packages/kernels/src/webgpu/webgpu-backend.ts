import * as tf from '@tensorflow/tfjs-core';

/** A uniform value a WGSL program declares in its `uniforms` field (tfjs-backend-webgpu's `ProgramUniform`). */
export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

/**
 * What tfjs-backend-webgpu runs (its `WebGPUProgram`): the WGSL body, the input names (bound in order as
 * `array<f32>` or `array<i32>` storage buffers after the output `result`), the output shape, the grid.
 * Kept structural: kernels never imports a backend package.
 */
export interface WebgpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  getUserCode(): string;
}

/** The parts of tfjs-backend-webgpu's `WebGPUBackend` the kernels use. */
interface WebgpuBackend {
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programUniforms?: ProgramUniform[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  readonly device: { readonly limits: { readonly maxStorageBuffersPerShaderStage: number } };
  /** Per tensor: its GPU buffer and, once read back, a copy of its values that `data()` returns. */
  readonly tensorMap: { get(dataId: tf.DataId): { values: unknown } };
}

/**
 * Runs `program` on the active webgpu backend over `inputs` and returns its output as a tensor of the
 * current tidy scope. The program's `getUserCode` defines `fn main(index : i32)` for a 1-D
 * `dispatchLayout` (tfjs passes the global invocation index) or `fn main()` for a 2-D one (the code
 * reads `workgroupId` and `localId`).
 */
export function runProgram(
  program: WebgpuProgram,
  inputs: tf.Tensor[],
  outputDtype: tf.DataType,
  uniforms: ProgramUniform[] = [],
): tf.Tensor {
  const output = webgpuBackend().runWebGPUProgram(program, inputs, outputDtype, uniforms);
  return tf.engine().makeTensorFromTensorInfo(output);
}

/**
 * Runs `program` writing into `target`'s GPU buffer in place (no new tensor): for a program that fills
 * one part of a buffer per dispatch (a cache slot, a slice of partial results). `target` must be owned
 * by the caller alone; every tensor sharing its data (reshapes of it) sees the new values.
 */
export function runProgramInPlace(
  program: WebgpuProgram,
  inputs: tf.Tensor[],
  target: tf.Tensor,
  uniforms: ProgramUniform[] = [],
): void {
  const backend = webgpuBackend();
  backend.runWebGPUProgram(program, inputs, target.dtype, uniforms, target);
  // A read of `target` before this write left its values on the CPU, which `data()` would return.
  backend.tensorMap.get(target.dataId).values = null;
}

/** How many storage buffers one program may bind (its output included): the device's limit. */
export function maxStorageBuffers(): number {
  return webgpuBackend().device.limits.maxStorageBuffersPerShaderStage;
}

function webgpuBackend(): WebgpuBackend {
  return tf.backend() as unknown as WebgpuBackend;
}

/** Whether the active tfjs backend is webgpu (whose tensors live in GPU buffers). */
export function onWebgpu(): boolean {
  return tf.getBackend() === 'webgpu';
}
