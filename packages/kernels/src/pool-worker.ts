import type { WorkerStart } from './pool-protocol.js';

/**
 * A pool worker's whole program. It is sent to the worker as source text (`toString`), so it must be
 * self-contained: no imports, no outer names; the protocol's constants are repeated as literals and
 * `pool-worker.test.ts` checks them against pool-protocol.ts.
 *
 * Loop: poll GENERATION for `spinIterations` rounds (a decode step issues dozens of small products in
 * a row: waking from Atomics.wait costs tens of microseconds), then sleep on it; run this thread's
 * panels of the task; decrement PENDING and wake the main thread when it reaches 0.
 */
export function poolWorkerMain(start: WorkerStart): void {
  const control = new Int32Array(start.control);
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  type Kernel = (...args: number[]) => void;
  const kernels = ['matmulFp32', 'matmulBf16', 'matmulFp16', 'matmulInt8'].map(
    (name) => instance.exports[name] as Kernel,
  );
  // Generation 0 is the pool's start: a worker that starts late still sees the first task's bump.
  let seen = 0;
  for (;;) {
    let generation = Atomics.load(control, 0);
    for (let spin = 0; generation === seen && spin < start.spinIterations; spin++) {
      generation = Atomics.load(control, 0);
    }
    while (generation === seen) {
      Atomics.wait(control, 0, seen);
      generation = Atomics.load(control, 0);
    }
    seen = generation;
    const op = control[2]!;
    if (op < 0) return;
    const threads = control[3]!;
    const panels = control[4]!;
    if (start.thread < threads) {
      const first = Math.floor((panels * start.thread) / threads);
      const end = Math.floor((panels * (start.thread + 1)) / threads);
      const a = control;
      if (end > first) kernels[op]!(a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, first, end);
      if (Atomics.sub(control, 1, 1) === 1) Atomics.notify(control, 1);
    }
  }
}
