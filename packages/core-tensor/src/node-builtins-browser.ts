// The browser side of the `#node-builtins` import (package.json): there is no file system, so each
// loader fails with an error saying so. Browsers read models through other sources (File objects,
// URLs), never through these.
import { TsformerError } from './errors.js';

function unavailable(module: string): () => Promise<never> {
  return async () => {
    throw new TsformerError(
      `${module} exists only in Node.js: this build of @tsformer/core-tensor runs in a browser`,
    );
  };
}

/** Fails: there is no file system in a browser. */
export const loadFileSystem: () => Promise<typeof import('node:fs/promises')> =
  unavailable('node:fs/promises');
/** Fails: no node:path in a browser. */
export const loadPath: () => Promise<typeof import('node:path')> = unavailable('node:path');
/** Fails: no node:module in a browser. */
export const loadModule: () => Promise<typeof import('node:module')> = unavailable('node:module');
