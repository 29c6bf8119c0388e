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
  ): tf.TensorInfo;
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
  const backend = tf.backend() as unknown as WebgpuBackend;
  const output = backend.runWebGPUProgram(program, inputs, outputDtype, uniforms);
  return tf.engine().makeTensorFromTensorInfo(output);
}

/** Whether the active tfjs backend is webgpu (whose tensors live in GPU buffers). */
export function onWebgpu(): boolean {
  return tf.getBackend() === 'webgpu';
}
