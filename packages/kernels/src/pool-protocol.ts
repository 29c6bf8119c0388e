/**
 * The control block a pool's threads share (an Int32Array over a SharedArrayBuffer). The main thread
 * writes a task's arguments, bumps GENERATION and wakes the workers; then every thread taking part,
 * the main one included, claims chunks of panels one at a time from NEXT until none is left, runs
 * each, and counts it in DONE; the thread that finishes the last chunk wakes the main thread. Threads
 * that run faster take more chunks, so all finish together, and a worker the OS has descheduled
 * costs at most the chunk it holds: the main thread takes the rest instead of waiting for its share.
 */
export const CONTROL = {
  /** Bumped once per task; workers wait for it to change. */
  GENERATION: 0,
  /**
   * The claim word: the task's tag (GENERATION's low 16 bits) in the high half, the next unclaimed
   * chunk in the low half. A thread claims chunk c by compareExchange(tag·2^16 + c → + 1); a worker
   * late for its task finds another tag and claims nothing, so it never runs an old task's chunk.
   */
  NEXT: 1,
  /** Index into KERNEL_EXPORTS of the task's kernel, or STOP_OP to end the workers. */
  OP: 2,
  /** Threads taking part (main thread included): workers with a higher index sit the task out. */
  THREADS: 3,
  /** Panels of 16 output columns in the task. */
  PANELS: 4,
  /** The kernel's arguments: x, rows, in, w, scales, bias, y, out (byte offsets and sizes). */
  ARGS: 5,
  /** Chunks of the task finished so far. */
  DONE: 13,
  /** Chunks in the task, and panels per chunk (the last may have fewer). */
  CHUNKS: 14,
  CHUNK_PANELS: 15,
  /** Int32 slots in the block. */
  LENGTH: 16,
} as const;

export const STOP_OP = -1;

/**
 * The module's product exports, indexed by CONTROL.OP: the skinny matmul's, one per packed weight
 * dtype in PACKED_DTYPES order, then the GEMM's for the float dtypes (fp32, bf16, fp16; int8 weights
 * take the skinny matmul's integer kernel at every row count).
 */
export const KERNEL_EXPORTS = [
  'matmulFp32',
  'matmulBf16',
  'matmulFp16',
  'matmulInt8',
  'gemmFp32',
  'gemmBf16',
  'gemmFp16',
] as const;

/** Bytes per packed weight element of each KERNEL_EXPORTS kernel. */
export const KERNEL_ELEMENT_BYTES = [4, 2, 2, 1, 4, 2, 2] as const;

/**
 * How long a thread polls before it sleeps, by default: 1 ms. A decode step runs a product every
 * 0.05–1 ms with tfjs's work (norms, attention) between them on the calling thread; waking a sleeping
 * worker costs tens of microseconds, a large part of a small product (GPT-2's 768→768 streams in
 * ~100 µs), during which the caller works alone. A worker that polls across those gaps joins each
 * product at once, and sleeps soon after the model stops. (It was 20,000 polls, ~150 µs here: less
 * than attention's gap at a context of a few hundred tokens.) A clock bound, not a poll count, so
 * the wait is the same on a fast and a slow machine.
 */
export const SPIN_MICROSECONDS = 1000;

/** Polls of a control word between two reads of the clock while a thread spins. */
export const POLLS_PER_CLOCK_READ = 64;

/**
 * Work per claimed chunk: weight bytes × row pairs. Small enough that a product of GPT-2's smallest
 * matrix (2.4 MB) splits into ~18 chunks, so threads finish within ~one chunk (~6 µs at 20 GB/s) of
 * each other; large enough that a claim (one compareExchange) is noise beside the chunk.
 */
export const CHUNK_WORK = 1 << 17;

/** Panels per chunk of `work` (weight bytes × row pairs) for panels of `panelBytes` over `rows` rows. */
export function chunkPanels(panelBytes: number, rows: number, work: number): number {
  return Math.max(1, Math.floor(work / (panelBytes * Math.ceil(rows / 2))));
}

/** The claim word's tag for generation `generation`. */
export function taskTag(generation: number): number {
  return generation & 0xffff;
}

/** What a worker is started with. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** This worker's thread index, 1 .. threads-1 (the main thread is 0). */
  thread: number;
  /** How long a worker polls for the next task before it sleeps in Atomics.wait, in microseconds. */
  spinMicroseconds: number;
  /** POLLS_PER_CLOCK_READ, passed along like `slots`. */
  pollsPerClockRead: number;
  /** CONTROL and KERNEL_EXPORTS, passed along because the worker's code can import nothing. */
  slots: typeof CONTROL;
  kernelExports: readonly string[];
}
