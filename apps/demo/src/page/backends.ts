import { BACKEND_NAMES, type BackendInfo, type BackendName, useBackend } from '@tsformer/core-tensor';
import { messageOf } from './dom.js';

/** The order the page tries backends in: the GPU, then WebAssembly (threads when isolated), then plain JS. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

/** tfjs-backend-wasm's `.wasm` files, copied next to the page by the build. */
const WASM_PATHS = new URL('wasm/', document.baseURI).href;

/** The backend that started, and why the ones tried before it did not. */
export interface StartedBackend {
  info: BackendInfo;
  skipped: string[];
}

/**
 * Starts `preferred` (when given) or the first of BACKEND_ORDER that works. wasm runs with threads
 * when the page is cross-origin isolated (`SharedArrayBuffer` exists), as tfjs decides.
 */
export async function startBackend(preferred?: BackendName): Promise<StartedBackend> {
  const order =
    preferred === undefined
      ? BACKEND_ORDER
      : [preferred, ...BACKEND_ORDER.filter((name) => name !== preferred)];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const info = await useBackend(name, { wasmPaths: WASM_PATHS });
      if (name === 'wasm') info.details.crossOriginIsolated = self.crossOriginIsolated;
      return { info, skipped };
    } catch (error) {
      skipped.push(`${name}: ${messageOf(error)}`);
    }
  }
  throw new Error(`no tensor backend started:\n${skipped.join('\n')}`);
}

/** A backend name from a query parameter or a select, or undefined when it is none. */
export function backendName(value: string | null): BackendName | undefined {
  return BACKEND_NAMES.find((name) => name === value && name !== 'tensorflow');
}

/** "wasm (2 threads, SIMD)", "webgpu": what the page shows. */
export function describeBackend(info: BackendInfo): string {
  if (info.name !== 'wasm') return info.name;
  const threads = Number(info.details.threads ?? 1);
  return `wasm (${threads} thread${threads === 1 ? '' : 's'}${info.details.simd ? ', SIMD' : ''})`;
}
