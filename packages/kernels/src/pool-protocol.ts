/**
 * The control block a pool's threads share (an Int32Array over a SharedArrayBuffer): the main thread
 * writes a task's arguments, bumps GENERATION and wakes the workers; each worker runs its share of the
 * panels and decrements PENDING; the last one wakes the main thread.
 */
export const CONTROL = {
  /** Bumped once per task; workers wait for it to change. */
  GENERATION: 0,
  /** Workers still running the current task. */
  PENDING: 1,
  /** Index into KERNEL_EXPORTS of the task's kernel, or STOP_OP to end the workers. */
  OP: 2,
  /** Threads taking part (main thread included), which fixes each one's share. */
  THREADS: 3,
  /** Panels of 16 output columns in the task. */
  PANELS: 4,
  /** The kernel's arguments: x, rows, in, w, scales, bias, y, out (byte offsets and sizes). */
  ARGS: 5,
  /** Int32 slots in the block. */
  LENGTH: 16,
} as const;

export const STOP_OP = -1;

/**
 * The module's product exports, indexed by CONTROL.OP: the skinny matmul's, then the GEMM's, each one
 * per packed weight dtype in PACKED_DTYPES order.
 */
export const KERNEL_EXPORTS = [
  'matmulFp32',
  'matmulBf16',
  'matmulFp16',
  'matmulInt8',
  'gemmFp32',
  'gemmBf16',
  'gemmFp16',
  'gemmInt8',
] as const;

/** First panel of thread `thread` of `threads` (thread `threads` gives the end): near-equal shares. */
export function panelBoundary(panels: number, thread: number, threads: number): number {
  return Math.floor((panels * thread) / threads);
}

/** What a worker is started with. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** This worker's thread index, 1 .. threads-1 (the main thread is 0). */
  thread: number;
  /** Times a worker polls for the next task before it sleeps in Atomics.wait. */
  spinIterations: number;
  /** CONTROL and KERNEL_EXPORTS, passed along because the worker's code can import nothing. */
  slots: typeof CONTROL;
  kernelExports: readonly string[];
}
