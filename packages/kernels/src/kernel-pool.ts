import { KernelPoolError } from './errors.js';
import { compileKernelsModule } from './kernels-module.js';
import { CONTROL, KERNEL_EXPORTS, panelBoundary, STOP_OP } from './pool-protocol.js';
import { type PoolThread, startPoolThread } from './pool-threads.js';
import { SharedHeap } from './shared-heap.js';

export interface KernelPoolOptions {
  /** Threads that run a product, the calling thread included; default 1 (no workers). */
  threads?: number;
  /**
   * Times a worker (and the caller, waiting for workers) polls before sleeping in `Atomics.wait`.
   * Polling keeps back-to-back products from paying a wake-up each; default 20000 (well under a
   * millisecond).
   */
  spinIterations?: number;
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
 * `run` splits a product's output panels across the threads; the calling thread takes the first
 * share and blocks until the others are done, so a product is synchronous, like a tfjs kernel.
 */
export class KernelPool {
  private terminated = false;
  private scratchOffset = 0;
  private scratchBytes = 0;

  private constructor(
    readonly heap: SharedHeap,
    readonly threads: number,
    private readonly kernels: readonly Kernel[],
    private readonly exports: WebAssembly.Exports,
    private readonly workers: readonly PoolThread[],
    private readonly control: Int32Array<SharedArrayBuffer>,
    private readonly spinIterations: number,
  ) {}

  /** Compiles the module (once per process), instantiates it here and starts `threads - 1` workers. */
  static async create(options: KernelPoolOptions = {}): Promise<KernelPool> {
    const threads = options.threads ?? 1;
    const spinIterations = options.spinIterations ?? 20_000;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new KernelPoolError(`kernel pool: threads must be an integer from 1 to 64, got ${threads}`);
    }
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new KernelPoolError(
        'kernel pool: SharedArrayBuffer is unavailable (a page must be cross-origin isolated)',
      );
    }
    const module = await compileKernelsModule();
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
          spinIterations,
          slots: CONTROL,
          kernelExports: KERNEL_EXPORTS,
        }),
      );
    }
    return new KernelPool(heap, threads, kernels, instance.exports, workers, control, spinIterations);
  }

  /**
   * y = x · W (+ bias) for the panels of `outFeatures` columns, on `threads` threads (default all).
   * `op` is the packed dtype's index in KERNEL_EXPORTS.
   */
  run(op: number, args: SkinnyMatmulArgs, threads = this.threads): void {
    if (this.terminated) throw new KernelPoolError('kernel pool: used after terminate()');
    const panels = Math.ceil(args.outFeatures / 16);
    const used = Math.max(1, Math.min(threads, this.threads, panels));
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
    if (used > 1) {
      const control = this.control;
      control.set(kernelArgs, CONTROL.ARGS);
      control[CONTROL.OP] = op;
      control[CONTROL.THREADS] = used;
      control[CONTROL.PANELS] = panels;
      Atomics.store(control, CONTROL.PENDING, used - 1);
      Atomics.add(control, CONTROL.GENERATION, 1);
      Atomics.notify(control, CONTROL.GENERATION);
    }
    this.kernels[op]!(...kernelArgs, 0, panelBoundary(panels, 1, used));
    if (used > 1) this.waitForWorkers();
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
    Atomics.add(this.control, CONTROL.GENERATION, 1);
    Atomics.notify(this.control, CONTROL.GENERATION);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private waitForWorkers(): void {
    const control = this.control;
    for (let spin = 0; spin < this.spinIterations; spin++) {
      if (Atomics.load(control, CONTROL.PENDING) === 0) return;
    }
    for (let pending = Atomics.load(control, CONTROL.PENDING); pending !== 0; ) {
      Atomics.wait(control, CONTROL.PENDING, pending);
      pending = Atomics.load(control, CONTROL.PENDING);
    }
  }
}
