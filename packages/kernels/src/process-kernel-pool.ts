import { KernelPoolError } from './errors.js';
import { KernelPool } from './kernel-pool.js';

/** Threads a process's pool gets when nothing names a count: the cores, at most this many. */
const MAX_DEFAULT_THREADS = 8;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

/**
 * The thread count named by `TSFORMER_KERNEL_THREADS` (1–64), or undefined when it is unset. A named
 * count is used by every product; without one, products choose by size (`threadsForProduct`).
 */
export function kernelThreadsFromEnv(): number | undefined {
  const fromEnv = isNode ? process.env.TSFORMER_KERNEL_THREADS : undefined;
  if (fromEnv === undefined || fromEnv === '') return undefined;
  const threads = Number(fromEnv);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new KernelPoolError(`TSFORMER_KERNEL_THREADS=${fromEnv} must be an integer from 1 to 64`);
  }
  return threads;
}

/**
 * The kernel pool's thread count when none is given: `TSFORMER_KERNEL_THREADS`, else the machine's
 * cores (`os.availableParallelism()`, at most 8) in Node, else 1 (browsers: the threaded path is not
 * built yet).
 */
export function defaultKernelThreads(): number {
  if (!isNode) return 1;
  const os = process.getBuiltinModule?.('node:os') as typeof import('node:os') | undefined;
  return kernelThreadsFromEnv() ?? Math.min(MAX_DEFAULT_THREADS, os?.availableParallelism() ?? 1);
}

/**
 * Whether `TSFORMER_KERNEL_RELAXED_SIMD` picks a build of the kernels: `0` the baseline one, `1`
 * the relaxed-SIMD one; undefined when it is unset (the pool then takes relaxed SIMD where the engine
 * has it).
 */
export function kernelRelaxedSimdFromEnv(): boolean | undefined {
  const fromEnv = isNode ? process.env.TSFORMER_KERNEL_RELAXED_SIMD : undefined;
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (fromEnv !== '0' && fromEnv !== '1') {
    throw new KernelPoolError(`TSFORMER_KERNEL_RELAXED_SIMD=${fromEnv} must be 0 or 1`);
  }
  return fromEnv === '1';
}

let shared: { threads: number; pool: Promise<KernelPool> } | undefined;

/**
 * The process's one kernel pool, created by the first call with `threads` (default
 * `defaultKernelThreads()`; the kernels' build: `TSFORMER_KERNEL_RELAXED_SIMD`, else relaxed SIMD
 * where the engine has it) and returned by every later one. Its workers are unreferenced: they never
 * keep a finished process alive. A later call may ask for fewer threads than the pool has (a product
 * then uses fewer); asking for more is an error.
 */
export async function processKernelPool(threads?: number): Promise<KernelPool> {
  if (shared && threads !== undefined && threads > shared.threads) {
    throw new KernelPoolError(
      `the process's kernel pool runs ${shared.threads} threads; it cannot serve ${threads} (the first use fixes the count: set TSFORMER_KERNEL_THREADS)`,
    );
  }
  if (!shared) {
    const count = threads ?? defaultKernelThreads();
    const pool = KernelPool.create({ threads: count, relaxedSimd: kernelRelaxedSimdFromEnv() });
    shared = { threads: count, pool };
    pool.catch(() => {
      if (shared?.pool === pool) shared = undefined;
    });
  }
  return shared.pool;
}
