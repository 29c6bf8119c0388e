import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';

/**
 * A module with one function, `(v128, v128, v128) → f32x4.relaxed_madd`: what an engine must
 * validate before the relaxed-SIMD build of the kernels is compiled.
 */
// biome-ignore format: one part of the module per line
const RELAXED_MADD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) → v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // its body
]);

let relaxedSupport: boolean | undefined;

/**
 * Whether this engine runs WebAssembly relaxed SIMD (Chrome ≥ 114, Node ≥ 22), found by validating
 * a module that uses it. Node 20's V8 has it behind `--experimental-wasm-relaxed-simd`: when the probe fails
 * there, the flag is set (process-wide, so workers get it too; it changes nothing for modules that
 * do not use relaxed instructions) and the probe is tried again. Answered once per process.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport !== undefined) return relaxedSupport;
  relaxedSupport = WebAssembly.validate(RELAXED_MADD_PROBE);
  if (!relaxedSupport && typeof process !== 'undefined' && typeof process.getBuiltinModule === 'function') {
    const v8 = process.getBuiltinModule('node:v8') as typeof import('node:v8') | undefined;
    v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedSupport = WebAssembly.validate(RELAXED_MADD_PROBE);
  }
  return relaxedSupport;
}

const compiled = new Map<boolean, Promise<WebAssembly.Module>>();

/**
 * The kernels' WebAssembly module (built from assembly/ by scripts/build-wasm.mjs), compiled once
 * per process and build. `relaxedSimd` (default: `relaxedSimdSupported()`) picks the build with
 * relaxed SIMD, whose products use fused multiply-adds where the processor has them; the baseline
 * build runs on every engine with SIMD and threads. Asynchronous: browsers refuse to compile modules
 * over 4 KiB synchronously on the main thread. A compiled module can be sent to workers, which
 * instantiate it on the shared memory.
 */
export function compileKernelsModule(relaxedSimd = relaxedSimdSupported()): Promise<WebAssembly.Module> {
  let module = compiled.get(relaxedSimd);
  if (!module) {
    module = WebAssembly.compile(
      decodeBase64(relaxedSimd ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64),
    );
    compiled.set(relaxedSimd, module);
  }
  return module;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
