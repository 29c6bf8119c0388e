// Node-only: the file system is reached through core-tensor's node-files, which imports node:fs on
// first use, so importing @tsformer/models in a browser never touches it.

import { FileAccessError, fileByteSource, inspectPath, readTextFile } from '@tsformer/core-tensor';
import { ModelFileError } from './errors.js';
import type { ModelFiles } from './model-files.js';

/**
 * The files of a model folder on disk (Node). A name that is there in any form "exists" (`has`),
 * so a directory, FIFO or broken link where a file belongs is reported for what it is when read —
 * a FileAccessError — never skipped, opened (a FIFO would hang) or mistaken for a missing file.
 */
export function folderFiles(folder: string): ModelFiles {
  const path = (name: string): string => `${folder.replace(/\/+$/, '')}/${name}`;
  /** Runs `read`; a missing file is a ModelFileError, as the ModelFiles contract says. */
  const existing = async <T>(name: string, read: (path: string) => Promise<T>): Promise<T> => {
    try {
      return await read(path(name));
    } catch (error) {
      if (error instanceof FileAccessError && error.found === 'missing') {
        throw new ModelFileError(`${path(name)} does not exist`);
      }
      throw error;
    }
  };
  return {
    location: folder,
    has: async (name) => (await inspectPath(path(name))).kind !== 'missing',
    readText: (name) => existing(name, readTextFile),
    open: (name) => existing(name, fileByteSource),
    path,
  };
}
