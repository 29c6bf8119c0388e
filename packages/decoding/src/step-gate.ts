import { GenerationAbortedError } from './errors.js';

/**
 * What may stop a generation between its steps: the caller's `AbortSignal`, or `releaseGenerations`
 * on its model. `pass()` runs between steps (and prefill chunks): it gives the event loop a turn, so
 * timers, I/O and other generations run, then throws GenerationAbortedError if the generation was
 * stopped meanwhile.
 */
export class StepGate {
  private released = false;

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** The model was disposed: the generation's tensors are gone and its next `pass()` throws. */
  release(): void {
    this.released = true;
  }

  throwIfStopped(): void {
    if (this.signal?.aborted) throw new GenerationAbortedError(this.signal.reason);
    if (this.released) {
      throw new GenerationAbortedError('the model was disposed (releaseGenerations) during generation');
    }
  }

  async pass(): Promise<void> {
    await yieldToEventLoop();
    this.throwIfStopped();
  }
}

/**
 * Resolves in a later macrotask, after due timers and I/O callbacks have run: `setImmediate` where it
 * exists (Node), else a `MessageChannel` message (browsers; not clamped as nested timeouts are), else
 * `setTimeout(0)`. A resolved promise would not do: microtasks run before any timer.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => scheduleMacrotask(resolve));
}

let scheduleMacrotask = (run: () => void): void => {
  scheduleMacrotask =
    typeof setImmediate === 'function'
      ? (next) => setImmediate(next)
      : typeof MessageChannel === 'function'
        ? messageChannelScheduler()
        : (next) => setTimeout(next, 0);
  scheduleMacrotask(run);
};

function messageChannelScheduler(): (run: () => void) => void {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return (run) => {
    waiting.push(run);
    channel.port2.postMessage(undefined);
  };
}
