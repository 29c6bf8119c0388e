import { KernelPoolError } from './errors.js';
import { compileKernelsModule, relaxedSimdSupported } from './kernels-module.js';
import {
  CHUNK_WORK,
  CONTROL,
  chunkPanels,
  KERNEL_ELEMENT_BYTES,
  KERNEL_EXPORTS,
  POLLS_PER_CLOCK_READ,
  SPIN_MICROSECONDS,
  STOP_OP,
  taskTag,
} from './pool-protocol.js';
import { type PoolThread, startPoolThread } from './pool-threads.js';
import { claimChunks } from './pool-worker.js';
import { SharedHeap } from './shared-heap.js';

export interface KernelPoolOptions {
  /** Threads that run a product, the calling thread included; default 1 (no workers). */
  threads?: number;
  /**
   * How long a worker polls for the next product after finishing one (and the caller for the workers'
   * last chunks) before it sleeps in `Atomics.wait`, in microseconds; default SPIN_MICROSECONDS.
   */
  spinMicroseconds?: number;
  /**
   * Work per claimed chunk of a product (weight bytes × row pairs), default CHUNK_WORK (128 KiB):
   * smaller splits finer (tests use 1: one panel per chunk), larger hands less to the workers.
   */
  chunkWork?: number;
  /**
   * Whether the threads run the kernels' relaxed-SIMD build (fused multiply-adds) or the baseline
   * one; default: relaxed where the engine supports it (`relaxedSimdSupported`). Asking for it where
   * the engine has none is an error.
   */
  relaxedSimd?: boolean;
}

/** The kernel's arguments as the module takes them: byte offsets into the heap and sizes. */
export interface SkinnyMatmulArgs {
  x: number;
  rows: number;
  inFeatures: number;
  weight: number;
  scales: number;
  bias: number;
  y: number;
  outFeatures: number;
}

type Kernel = (...args: number[]) => void;

/**
 * Threads sharing one WebAssembly.Memory (the `heap`), each with an instance of the kernels' module.
 * `run` cuts a product's output panels into chunks that the threads claim, the calling thread
 * included, and returns when all are done, so a product is synchronous, like a tfjs kernel.
 */
export class KernelPool {
  private terminated = false;
  private scratchOffset = 0;
  private scratchBytes = 0;

  private constructor(
    readonly heap: SharedHeap,
    readonly threads: number,
    /** Whether the pool runs the relaxed-SIMD build of the kernels (KernelPoolOptions.relaxedSimd). */
    readonly relaxedSimd: boolean,
    private readonly kernels: readonly Kernel[],
    private readonly exports: WebAssembly.Exports,
    private readonly workers: readonly PoolThread[],
    private readonly control: Int32Array<SharedArrayBuffer>,
    private readonly spinMicroseconds: number,
    private readonly chunkWork: number,
  ) {}

  private generation = 0;

  /** Compiles the module (once per process), instantiates it here and starts `threads - 1` workers. */
  static async create(options: KernelPoolOptions = {}): Promise<KernelPool> {
    const threads = options.threads ?? 1;
    const spinMicroseconds = options.spinMicroseconds ?? SPIN_MICROSECONDS;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new KernelPoolError(`kernel pool: threads must be an integer from 1 to 64, got ${threads}`);
    }
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new KernelPoolError(
        'kernel pool: SharedArrayBuffer is unavailable (a page must be cross-origin isolated)',
      );
    }
    const relaxedSimd = options.relaxedSimd ?? relaxedSimdSupported();
    if (relaxedSimd && !relaxedSimdSupported()) {
      throw new KernelPoolError(
        'kernel pool: relaxedSimd was asked for, but this engine has no relaxed SIMD',
      );
    }
    const module = await compileKernelsModule(relaxedSimd);
    const heap = new SharedHeap();
    const instance = await WebAssembly.instantiate(module, { env: { memory: heap.memory } });
    const kernels = KERNEL_EXPORTS.map((name) => instance.exports[name] as Kernel);
    const control = new Int32Array(new SharedArrayBuffer(CONTROL.LENGTH * 4));
    const workers: PoolThread[] = [];
    for (let thread = 1; thread < threads; thread++) {
      workers.push(
        startPoolThread({
          module,
          memory: heap.memory,
          control: control.buffer,
          thread,
          spinMicroseconds,
          pollsPerClockRead: POLLS_PER_CLOCK_READ,
          slots: CONTROL,
          kernelExports: KERNEL_EXPORTS,
        }),
      );
    }
    return new KernelPool(
      heap,
      threads,
      relaxedSimd,
      kernels,
      instance.exports,
      workers,
      control,
      spinMicroseconds,
      options.chunkWork ?? CHUNK_WORK,
    );
  }

  /**
   * y = x · W (+ bias) for the panels of `outFeatures` columns, on `threads` threads (default all):
   * every thread taking part claims chunks of panels until none is left (see CONTROL), so they finish
   * together and a descheduled worker holds up at most one chunk. Results do not depend on the split:
   * each output column is computed whole by one kernel call. `op` is the kernel's index in
   * KERNEL_EXPORTS (a skinny-matmul or GEMM export).
   */
  run(op: number, args: SkinnyMatmulArgs, threads = this.threads): void {
    if (this.terminated) throw new KernelPoolError('kernel pool: used after terminate()');
    const panels = Math.ceil(args.outFeatures / 16);
    const kernelArgs = [
      args.x,
      args.rows,
      args.inFeatures,
      args.weight,
      args.scales,
      args.bias,
      args.y,
      args.outFeatures,
    ];
    const perChunk = chunkPanels(16 * args.inFeatures * KERNEL_ELEMENT_BYTES[op]!, args.rows, this.chunkWork);
    const chunks = Math.ceil(panels / perChunk);
    const used = Math.max(1, Math.min(threads, this.threads, chunks));
    if (used === 1) {
      this.kernels[op]!(...kernelArgs, 0, panels);
      return;
    }
    const control = this.control;
    this.generation = (this.generation + 1) | 0;
    const tag = taskTag(this.generation);
    // The new tag first: from here no late worker can claim a chunk of the finished task.
    Atomics.store(control, CONTROL.NEXT, tag << 16);
    control.set(kernelArgs, CONTROL.ARGS);
    control[CONTROL.OP] = op;
    control[CONTROL.THREADS] = used;
    control[CONTROL.PANELS] = panels;
    control[CONTROL.CHUNKS] = chunks;
    control[CONTROL.CHUNK_PANELS] = perChunk;
    Atomics.store(control, CONTROL.DONE, 0);
    Atomics.store(control, CONTROL.GENERATION, this.generation);
    Atomics.notify(control, CONTROL.GENERATION);
    claimChunks(control, CONTROL, this.kernels, tag);
    this.waitForChunks(chunks);
  }

  /** Runs the module's export `name` on the calling thread alone: a step that prepares a `run`. */
  callOnCaller(name: string, ...args: number[]): void {
    if (this.terminated) throw new KernelPoolError('kernel pool: used after terminate()');
    (this.exports[name] as Kernel)(...args);
  }

  /**
   * A heap block of at least `bytes` bytes for one product's inputs and outputs, reused by every
   * call (and replaced by a larger one when needed): valid until the next call.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.heap.release(this.scratchOffset);
      this.scratchOffset = this.heap.allocate(bytes);
      this.scratchBytes = bytes;
    }
    return this.scratchOffset;
  }

  /** Stops the workers and frees nothing else: the heap goes with the pool. Idempotent. */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.control[CONTROL.OP] = STOP_OP;
    this.generation = (this.generation + 1) | 0;
    Atomics.store(this.control, CONTROL.GENERATION, this.generation);
    Atomics.notify(this.control, CONTROL.GENERATION);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Returns once `chunks` chunks are done: polls for `spinMicroseconds`, then sleeps on DONE. */
  private waitForChunks(chunks: number): void {
    const control = this.control;
    const until = performance.now() + this.spinMicroseconds / 1000;
    while (performance.now() < until) {
      for (let poll = 0; poll < POLLS_PER_CLOCK_READ; poll++) {
        if (Atomics.load(control, CONTROL.DONE) === chunks) return;
      }
    }
    for (let done = Atomics.load(control, CONTROL.DONE); done !== chunks; ) {
      Atomics.wait(control, CONTROL.DONE, done);
      done = Atomics.load(control, CONTROL.DONE);
    }
  }
}
