import type { CONTROL, WorkerStart } from './pool-protocol.js';

type Kernel = (...args: number[]) => void;

/**
 * Claims chunks of the current task from CONTROL.NEXT until none is left for `tag`, runs the task's
 * kernel on each chunk's panels and counts it in DONE; whoever finishes the last chunk wakes the main
 * thread. The task's fields are read once, after the first claim succeeds: until that chunk is
 * counted the main thread cannot start another task, and a later claim with the same tag is a chunk
 * of the same task. Run by the main thread and by every worker (sent to workers as source text:
 * self-contained).
 */
export function claimChunks(
  control: Int32Array,
  slots: typeof CONTROL,
  kernels: readonly Kernel[],
  tag: number,
): void {
  let kernel: Kernel | undefined;
  let args: number[] = [];
  let [panels, chunks, perChunk] = [0, 0, 0];
  for (;;) {
    const word = Atomics.load(control, slots.NEXT);
    const chunk = word & 0xffff;
    if (word >>> 16 !== tag || chunk >= control[slots.CHUNKS]!) return;
    if (Atomics.compareExchange(control, slots.NEXT, word, word + 1) !== word) continue;
    if (!kernel) {
      kernel = kernels[control[slots.OP]!]!;
      args = Array.from(control.subarray(slots.ARGS, slots.ARGS + 8));
      [panels, chunks, perChunk] = [
        control[slots.PANELS]!,
        control[slots.CHUNKS]!,
        control[slots.CHUNK_PANELS]!,
      ];
    }
    const first = chunk * perChunk;
    kernel(...args, first, Math.min(panels, first + perChunk));
    if (Atomics.add(control, slots.DONE, 1) === chunks - 1) Atomics.notify(control, slots.DONE);
  }
}

/**
 * A pool worker's whole program. It is sent to the worker as source text (`toString`), so it must be
 * self-contained: no imports, no outer names; the protocol's constants arrive in `start`, and
 * `claim` is `claimChunks`, sent the same way.
 *
 * Loop: poll GENERATION for `spinMicroseconds` after the last task (a decode step issues dozens of
 * small products with a little work between them: waking from Atomics.wait costs tens of
 * microseconds; see SPIN_MICROSECONDS), then sleep on it; claim and run chunks of the task until none
 * is left.
 */
export function poolWorkerMain(start: WorkerStart, claim: typeof claimChunks): void {
  const control = new Int32Array(start.control);
  const slots = start.slots;
  const { GENERATION, OP, THREADS } = slots;
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  const kernels = start.kernelExports.map((name) => instance.exports[name] as Kernel);
  // Generation 0 is the pool's start: a worker that starts late still sees the first task's bump.
  let seen = 0;
  for (;;) {
    let generation = Atomics.load(control, GENERATION);
    const until = performance.now() + start.spinMicroseconds / 1000;
    while (generation === seen && performance.now() < until) {
      for (let poll = 0; generation === seen && poll < start.pollsPerClockRead; poll++) {
        generation = Atomics.load(control, GENERATION);
      }
    }
    while (generation === seen) {
      Atomics.wait(control, GENERATION, seen);
      generation = Atomics.load(control, GENERATION);
    }
    seen = generation;
    const op = control[OP]!;
    if (op < 0) return;
    // A task this worker is late for has another tag in NEXT by now: nothing is claimed.
    if (start.thread < control[THREADS]!) claim(control, slots, kernels, generation & 0xffff);
  }
}
