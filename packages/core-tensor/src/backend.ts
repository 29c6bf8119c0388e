import * as tf from '@tensorflow/tfjs-core';
import { loadModule, loadPath } from '#node-builtins';
import { BackendUnavailableError } from './errors.js';
import { initialiseWasmThreadsInNode } from './wasm-threads-node.js';
import { registerWebgpuSoftmax } from './webgpu-softmax.js';

/** The tensor backends tsformer runs on; see DESIGN.md "Backends". */
export const BACKEND_NAMES = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend actually running (`tensorflow` for tfjs-node, ...). */
  tfjsBackend: string;
  /** Facts worth printing: SIMD and threads for wasm, the adapter for webgpu, the package for tensorflow. */
  details: Record<string, string | boolean | number>;
}

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** The backend used when none is named: `TSFORMER_BACKEND`, else wasm in Node, else webgpu when the browser has it. */
export function defaultBackendName(): BackendName {
  const fromEnv = isNode ? process.env.TSFORMER_BACKEND : undefined;
  if (fromEnv) {
    if (!isBackendName(fromEnv)) {
      throw new BackendUnavailableError(
        `TSFORMER_BACKEND=${fromEnv} is not a backend; choose one of ${BACKEND_NAMES.join(', ')}`,
      );
    }
    return fromEnv;
  }
  if (!isNode && typeof navigator !== 'undefined' && 'gpu' in navigator) return 'webgpu';
  return 'wasm';
}

export interface BackendOptions {
  /**
   * Folder (or URL prefix, ending in `/`) holding tfjs-backend-wasm's `.wasm` files. Default: the
   * installed package's `dist/` in Node, the bundler's choice in a browser. Bundles set it.
   */
  wasmPaths?: string;
  /**
   * Threads for the wasm backend's matrix kernels (XNNPACK), 1 to 8; default `TSFORMER_WASM_THREADS`,
   * else 1. In Node, more than 1 starts tfjs's threaded build through `initialiseWasmThreadsInNode`.
   * Takes effect when the wasm backend first initialises in the process.
   */
  threads?: number;
}

/** A registered backend and how to make it the active one. */
interface Registration {
  info: BackendInfo;
  activate(): Promise<boolean>;
}

/**
 * Loads and activates a backend. Backend packages are imported here and only here, on demand,
 * so importing tsformer never pulls in a backend the caller does not use.
 */
export async function useBackend(
  name: BackendName = defaultBackendName(),
  options: BackendOptions = {},
): Promise<BackendInfo> {
  if (!isBackendName(name)) {
    throw new BackendUnavailableError(`unknown backend "${name}"; choose one of ${BACKEND_NAMES.join(', ')}`);
  }
  const { info, activate } = await registerBackend(name, options);
  if (!(await activate())) {
    throw new BackendUnavailableError(`the ${name} backend is installed but failed to initialise`);
  }
  await tf.ready();
  return info;
}

/**
 * Makes sure tfjs has a backend to run on: the active one, else the best one registered (as tfjs
 * would pick it), else `useBackend()`'s default. Entry points such as `fromPretrained` call this,
 * so that they work before any `useBackend` (tfjs alone fails with "No backend found in registry").
 */
export async function ensureBackend(): Promise<void> {
  if (tf.engine().backendNames().length === 0) await useBackend();
  else await tf.ready();
}

async function registerBackend(name: BackendName, options: BackendOptions): Promise<Registration> {
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return {
        info: { name, tfjsBackend: 'cpu', details: {} },
        activate: async () => (await tf.setBackend('cpu')) && skipNodeGreeting(),
      };
    case 'wasm':
      return registerWasm(options);
    case 'webgpu':
      return activatedBySetBackend(await registerWebgpu());
    case 'tensorflow':
      return activatedBySetBackend(await registerTensorflow());
  }
}

/**
 * tfjs-backend-cpu prints a banner on its first tensor in Node ("Hi, looks like you are running
 * TensorFlow.js in Node.js. To speed things up dramatically, install our node backend…"). Here
 * cpu was chosen on purpose (`--backend cpu`), so the banner only clutters stderr: mark it shown.
 */
function skipNodeGreeting(): true {
  const backend = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (backend !== null && 'firstUse' in backend) backend.firstUse = false;
  return true;
}

function activatedBySetBackend(info: BackendInfo): Registration {
  return { info, activate: () => tf.setBackend(info.tfjsBackend) };
}

async function registerWasm(options: BackendOptions): Promise<Registration> {
  const { wasmPaths } = options;
  const threads = options.threads ?? Number(isNode ? (process.env.TSFORMER_WASM_THREADS ?? 1) : 1);
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) {
    throw new BackendUnavailableError(`wasm threads must be an integer from 1 to 8, got ${threads}`);
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (wasmPaths !== undefined) {
    wasm.setWasmPaths(wasmPaths);
  } else if (isNode) {
    // In Node the .wasm binaries are read from the package's own dist folder.
    const { createRequire } = await loadModule();
    const { dirname } = await loadPath();
    const packageJson = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    wasm.setWasmPaths(`${dirname(packageJson)}/dist/`);
  }
  const info: BackendInfo = { name: 'wasm', tfjsBackend: 'wasm', details: {} };
  const setBackend = () => tf.setBackend('wasm');
  return {
    info,
    activate: async () => {
      const initialised = tf.findBackend('wasm') !== null;
      const active =
        isNode && threads > 1 && !initialised
          ? await initialiseWasmThreadsInNode(threads, wasm.setThreadsCount, setBackend)
          : await setBackend();
      info.details.simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
      info.details.threads = active ? wasm.getThreadsCount() : 0;
      return active;
    },
  };
}

async function registerWebgpu(): Promise<BackendInfo> {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (!scope.navigator?.gpu) {
    if (!isNode) throw new BackendUnavailableError('this browser has no WebGPU (navigator.gpu is undefined)');
    const dawn = await importOptional('webgpu');
    if (!dawn) {
      throw new BackendUnavailableError(
        'the webgpu backend in Node needs the "webgpu" package (Dawn): npm install webgpu, on a machine with a Vulkan GPU',
      );
    }
    Object.assign(globalThis, dawn.globals);
    (globalThis as { navigator?: unknown }).navigator = { gpu: dawn.create([]) };
  }
  const gpu = (globalThis as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }).navigator.gpu;
  if (!(await gpu.requestAdapter())) {
    throw new BackendUnavailableError('WebGPU is present but found no GPU adapter on this machine');
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebgpuSoftmax();
  return { name: 'webgpu', tfjsBackend: 'webgpu', details: {} };
}

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function registerTensorflow(): Promise<BackendInfo> {
  for (const specifier of TENSORFLOW_PACKAGES) {
    if (await importOptional(specifier)) {
      return { name: 'tensorflow', tfjsBackend: 'tensorflow', details: { package: specifier } };
    }
  }
  throw new BackendUnavailableError(
    'the tensorflow backend needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node (CPU), and neither is installed. ' +
      'Install one next to tsformer (npm install @tensorflow/tfjs-node-gpu); note that its install script downloads ' +
      'libtensorflow from storage.googleapis.com, so it fails on machines without that access.',
  );
}

/**
 * Imports an optional peer by name; undefined when it is not installed. A CommonJS bundle `require`s
 * it, because only `require` honours NODE_PATH (how ../shared/gpu-server's packed runtime provides
 * the Dawn addon); ES modules use `import`.
 */
// biome-ignore lint/suspicious/noExplicitAny: an optional peer's exports have no types here.
async function importOptional(specifier: string): Promise<Record<string, any> | undefined> {
  try {
    if (typeof require === 'function') return require(specifier);
    return await import(/* @vite-ignore */ specifier);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      /Cannot find (module|package)|Could not resolve/.test(String(error))
    ) {
      return undefined;
    }
    throw error;
  }
}
