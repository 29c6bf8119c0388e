export { type DecodeAttentionCall, DecodeAttentionKernel } from './cpu-decode-attention.js';
export {
  CPU_KERNEL_BACKENDS,
  type CpuKernelsOptions,
  cpuKernelsEnabled,
  disableCpuKernels,
  enableCpuKernels,
} from './cpu-linear.js';
export { rotateOnCaller } from './cpu-rotary.js';
export { registerCpuStepOps } from './cpu-step-ops.js';
export { embedding } from './embedding.js';
export { KernelArgumentError, KernelPoolError } from './errors.js';
export { type BackendImplementation, defineFusedOp, type FusedOp } from './fused-op.js';
export { geluTanh } from './gelu.js';
export { gemm } from './gemm.js';
export { KernelPool, type KernelPoolOptions } from './kernel-pool.js';
export { compileKernelsModule, relaxedSimdSupported } from './kernels-module.js';
export { type LinearWeightLayout, linear } from './linear.js';
export { DEFAULT_SKINNY_ROWS, type LinearForwardOptions, linearForward } from './linear-forward.js';
export { addNormalize, type NormSpec, normalize } from './norm-ops.js';
export { packedWeightLoader } from './packed-loading.js';
export { GEMM_MIN_ROWS, packedMatmul } from './packed-matmul.js';
export {
  holdPackedLinearWeight,
  loadPackedLinearWeight,
  PACKED_LAYOUT_KEY,
  PackedParameterLayout,
  packedLinearWeight,
} from './packed-parameter.js';
export {
  PackedWeight,
  type PackOptions,
  packTensorWeight,
  packWeight,
  packWeightByRows,
  type RawWeight,
  type ReadRows,
} from './packed-weight.js';
export {
  defaultKernelThreads,
  kernelRelaxedSimdFromEnv,
  kernelThreadsFromEnv,
  processKernelPool,
} from './process-kernel-pool.js';
export {
  gatedProjection,
  linearActivation,
  linearResidual,
  type NamedActivation,
  type Projection,
} from './projection-ops.js';
export { skinnyMatmul } from './skinny-matmul.js';
export { threadsForProduct, WORK_PER_THREAD } from './thread-choice.js';
export {
  disableWebgpuKernels,
  enableWebgpuKernels,
  type WebgpuKernelsOptions,
} from './webgpu/enable-webgpu-kernels.js';
export {
  dispatchKernel,
  type FastDispatchStats,
  fastDispatchesByKernel,
  fastDispatchStats,
  type KernelOutput,
  maxStorageBuffers,
} from './webgpu/fast-dispatch.js';
export { type GemmGrid, type GemmOptions, gemmGrid } from './webgpu/gemm-grid.js';
export { type LinearEpilogue, webgpuLinearWithEpilogue } from './webgpu/webgpu-linear.js';
export { webgpuStackedLinear } from './webgpu/webgpu-stacked-linear.js';
export type { WgslBuffer, WgslElement, WgslKernel, WgslUniform } from './webgpu/wgsl-kernel.js';
export {
  bf16BitsToFloat32,
  float32ToBf16Bits,
  fp16BitsToFloat32,
  PACKED_DTYPES,
  type PackedDtype,
} from './weight-dtypes.js';
export type { WeightOrder } from './weight-layout.js';
