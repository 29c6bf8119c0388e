// The Node built-in modules that core-tensor's file and backend code needs, each imported on first use.
// Reached only through the `#node-builtins` import of package.json, whose `browser` condition selects
// node-builtins-browser.ts instead: a browser bundle of @tsformer/core-tensor never names `node:*`.

/** node:fs/promises (reading and writing model files). */
export const loadFileSystem = () => import('node:fs/promises');
/** node:path. */
export const loadPath = () => import('node:path');
/** node:module (finding tfjs-backend-wasm's `.wasm` files in Node). */
export const loadModule = () => import('node:module');
