import { Worker } from 'node:worker_threads';
import { compileKernelsModule } from '@tsformer/kernels';

/** Streaming-read bandwidth of this machine on some number of threads. */
export interface BandwidthFigure {
  threads: number;
  /** Best of the trials, in GB/s (10^9 bytes per second). */
  gbPerSecond: number;
  /** Every trial's figure, to show the spread. */
  trials: number[];
}

/** Far larger than any cache (an EPYC's L3 is 32 MiB per CCD): every pass streams from DRAM. */
const BUFFER_BYTES = 512 * 2 ** 20;
const PASSES = 4;
const TRIALS = 5;

/**
 * The fastest rate WebAssembly SIMD reads memory here: `streamSum` (the kernels module's four-chain
 * f32x4 sum, one cache line per iteration) over a 512 MiB buffer in one shared WebAssembly.Memory,
 * split between `threads` threads (this one and worker_threads). A decode step that reads W bytes of
 * weights cannot take less than W / this figure: kernels are reported as a % of it.
 */
export async function probeBandwidth(threadCounts: readonly number[]): Promise<BandwidthFigure[]> {
  const module = await compileKernelsModule();
  const memory = new WebAssembly.Memory({ initial: BUFFER_BYTES / 65536 + 2, maximum: 65536, shared: true });
  new Float32Array(memory.buffer, 65536, BUFFER_BYTES / 4).fill(1);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const streamSum = instance.exports.streamSum as (offset: number, count: number) => number;
  const figures: BandwidthFigure[] = [];
  for (const threads of threadCounts) {
    // control: [0] start generation, [1] threads still running, [2] threads taking part.
    const control = new Int32Array(new SharedArrayBuffer(16));
    const workers = Array.from(
      { length: threads - 1 },
      (_, k) =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory, control: control.buffer, thread: k + 1 },
        }),
    );
    await Promise.all(workers.map((worker) => new Promise((ready) => worker.once('message', ready))));
    const share = BUFFER_BYTES / threads;
    const trials: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      control[2] = threads;
      Atomics.store(control, 1, threads - 1);
      const start = performance.now();
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      for (let pass = 0; pass < PASSES; pass++) streamSum(65536, share / 4);
      while (Atomics.load(control, 1) !== 0) Atomics.wait(control, 1, Atomics.load(control, 1), 1);
      const seconds = (performance.now() - start) / 1000;
      trials.push(Math.round((BUFFER_BYTES * PASSES) / seconds / 1e8) / 10);
    }
    control[2] = -1;
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    figures.push({ threads, gbPerSecond: Math.max(...trials), trials });
  }
  return figures;
}

/** A probe worker: on each start signal, its share of PASSES passes; -1 threads ends it. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control: buffer, thread } = workerData;
const control = new Int32Array(buffer);
const streamSum = new WebAssembly.Instance(module, { env: { memory } }).exports.streamSum;
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  const threads = control[2];
  if (threads < 0) break;
  const share = ${BUFFER_BYTES} / threads;
  for (let pass = 0; pass < ${PASSES}; pass++) streamSum(65536 + thread * share, share / 4);
  if (Atomics.sub(control, 1, 1) === 1) Atomics.notify(control, 1);
}
`;
