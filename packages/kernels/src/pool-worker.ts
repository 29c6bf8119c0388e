import type { WorkerStart } from './pool-protocol.js';

/**
 * A pool worker's whole program. It is sent to the worker as source text (`toString`), so it must be
 * self-contained: no imports, no outer names; the protocol's constants arrive in `start`.
 *
 * Loop: poll GENERATION for `spinIterations` rounds (a decode step issues dozens of small products in
 * a row: waking from Atomics.wait costs tens of microseconds), then sleep on it; run this thread's
 * panels of the task; decrement PENDING and wake the main thread when it reaches 0.
 */
export function poolWorkerMain(start: WorkerStart): void {
  const control = new Int32Array(start.control);
  const { GENERATION, PENDING, OP, THREADS, PANELS, ARGS } = start.slots;
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  type Kernel = (...args: number[]) => void;
  const kernels = start.kernelExports.map((name) => instance.exports[name] as Kernel);
  // Generation 0 is the pool's start: a worker that starts late still sees the first task's bump.
  let seen = 0;
  for (;;) {
    let generation = Atomics.load(control, GENERATION);
    for (let spin = 0; generation === seen && spin < start.spinIterations; spin++) {
      generation = Atomics.load(control, GENERATION);
    }
    while (generation === seen) {
      Atomics.wait(control, GENERATION, seen);
      generation = Atomics.load(control, GENERATION);
    }
    seen = generation;
    const op = control[OP]!;
    if (op < 0) return;
    const threads = control[THREADS]!;
    const panels = control[PANELS]!;
    if (start.thread < threads) {
      // This thread's share of the panels, as panelBoundary computes it.
      const first = Math.floor((panels * start.thread) / threads);
      const end = Math.floor((panels * (start.thread + 1)) / threads);
      const args = Array.from(control.subarray(ARGS, ARGS + 8));
      if (end > first) kernels[op]!(...args, first, end);
      if (Atomics.sub(control, PENDING, 1) === 1) Atomics.notify(control, PENDING);
    }
  }
}
