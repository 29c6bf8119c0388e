import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * The kernels' WebAssembly module (built from assembly/ by scripts/build-wasm.mjs), compiled once
 * per process. Asynchronous: browsers refuse to compile modules over 4 KiB synchronously on the main
 * thread. A compiled module can be sent to workers, which instantiate it on the shared memory.
 */
export function compileKernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64));
  return compiled;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
