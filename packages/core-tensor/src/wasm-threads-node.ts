import * as tf from '@tensorflow/tfjs-core';

/**
 * Starts tfjs-backend-wasm's threaded build in Node, which tfjs 4.22 only wires for browsers. The build
 * itself supports Node (Emscripten's worker code checks ENVIRONMENT_IS_NODE); three browser assumptions
 * stand in the way, each bridged only while `initialise` runs:
 * 1. tfjs hands Emscripten its worker script and its main script as `blob:` URLs, which Node's
 *    `Worker` and the worker's `importScripts` cannot open: they are written to temporary files instead
 *    (the worker learns the main script's path, since it receives that script as a Blob).
 * 2. The main script is the Emscripten factory cut out of tfjs's CommonJS bundle and still names the
 *    bundle's module-level helpers: they are defined at the top of its file.
 * 3. XNNPACK's thread pool is capped at logical cores / 2 (tfjs assumes hyperthreads): while tfjs
 *    initialises, `os.cpus()` lists each core twice, so the pool gets the threads that were asked for.
 * Afterwards the pool's workers are unreferenced: they only ever work while the main thread waits on
 * them, and must not keep a finished Node process alive.
 * Tied to the pinned @tensorflow/tfjs-backend-wasm 4.22.0; a test checks the pool size and the results.
 */
export async function initialiseWasmThreadsInNode<T>(
  threads: number,
  setThreadsCount: (count: number) => void,
  initialise: () => Promise<T>,
): Promise<T> {
  const load = nodeRequire();
  const fs = load('node:fs') as typeof import('node:fs');
  const os = load('node:os') as typeof import('node:os');
  const path = load('node:path') as typeof import('node:path');
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsformer-wasm-threads-'));
  const mainScript = path.join(folder, 'backend-main.js');
  const scripts = new WeakMap<Blob, string>();
  const RealBlob = globalThis.Blob;
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;

  globalThis.Blob = class RecordingBlob extends RealBlob {
    constructor(parts: BlobPart[] = [], options?: BlobPropertyBag) {
      super(parts, options);
      const text = parts.every((part) => typeof part === 'string') ? parts.join('') : undefined;
      if (text === undefined) return;
      scripts.set(this, text);
      if (text.startsWith(MAIN_SCRIPT_START)) fs.writeFileSync(mainScript, BUNDLE_HELPERS + text);
    }
  };
  URL.createObjectURL = (blob: Blob): string => {
    const text = scripts.get(blob);
    if (text === undefined) return realCreateObjectURL(blob);
    const workerScript = path.join(folder, 'backend-worker.js');
    fs.writeFileSync(workerScript, `${text}\nURL.createObjectURL = () => ${JSON.stringify(mainScript)};\n`);
    return workerScript;
  };
  os.cpus = () => [...realCpus(), ...realCpus()];
  setThreadsCount(threads);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  try {
    const result = await initialise();
    for (const worker of poolWorkers()) worker.unref();
    return result;
  } finally {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreateObjectURL;
    os.cpus = realCpus;
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** How the Emscripten factory that tfjs ships as the workers' main script begins. */
const MAIN_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';

/** The module-level names of tf-backend-wasm.node.js that the factory's source refers to. */
const BUNDLE_HELPERS =
  "var commonjsGlobal = globalThis, require$$0 = require('fs'), require$$1 = require('path'), " +
  "require$$3 = require('perf_hooks'), require$$4 = require('os');\n";

/** `require` in a CommonJS bundle, else one made for this module. */
function nodeRequire(): NodeJS.Require {
  if (typeof require === 'function') return require;
  const { createRequire } = process.getBuiltinModule('node:module') as typeof import('node:module');
  return createRequire(import.meta.url);
}

/** The Emscripten pthread workers of the active wasm backend. */
function poolWorkers(): { unref(): void }[] {
  type Pool = { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  const pool = (tf.backend() as { wasm?: { PThread?: Pool } }).wasm?.PThread;
  return pool ? [...pool.runningWorkers, ...pool.unusedWorkers] : [];
}
