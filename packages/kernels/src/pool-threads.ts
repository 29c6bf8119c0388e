import { KernelPoolError } from './errors.js';
import type { WorkerStart } from './pool-protocol.js';
import { claimChunks, poolWorkerMain } from './pool-worker.js';

/** A running pool worker, whatever starts it. */
export interface PoolThread {
  /** Ends the worker; resolves once it has stopped. */
  terminate(): Promise<void>;
}

/**
 * Starts one pool worker running `poolWorkerMain(start, claimChunks)`. Node: a `worker_threads` Worker from source
 * text, unreferenced so that a process whose work is done exits while its workers sleep. A browser
 * path would start a `Worker` from a Blob URL and post `start` to it (a cross-origin isolated page
 * has SharedArrayBuffer); it is not built yet, so more than one thread there is refused.
 */
export function startPoolThread(start: WorkerStart): PoolThread {
  const workerThreads = nodeWorkerThreads();
  if (!workerThreads) {
    throw new KernelPoolError(
      'kernel pool: more than one thread needs Node worker_threads (browsers: not yet)',
    );
  }
  // The worker reaches worker_threads as this thread does (no `require` of a node: module in the
  // package's text, so a browser bundle names none).
  const source = `(${poolWorkerMain.toString()})(process.getBuiltinModule('node:worker_threads').workerData, ${claimChunks.toString()});`;
  const worker = new workerThreads.Worker(source, { eval: true, workerData: start });
  worker.unref();
  return {
    async terminate() {
      await worker.terminate();
    },
  };
}

function nodeWorkerThreads(): typeof import('node:worker_threads') | undefined {
  if (typeof process === 'undefined' || typeof process.getBuiltinModule !== 'function') return undefined;
  return process.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
}
