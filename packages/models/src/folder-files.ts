// Node-only: node:fs and node:path are imported on first use, so importing @tsformer/models in a
// browser never touches them.
import { fileByteSource } from '@tsformer/core-tensor';
import { ModelFileError, type ModelFiles } from './model-files.js';

/** The files of a model folder on disk (Node). */
export function folderFiles(folder: string): ModelFiles {
  const path = (name: string): string => `${folder.replace(/\/+$/, '')}/${name}`;
  const isFile = async (name: string): Promise<boolean> => {
    const { stat } = await import('node:fs/promises');
    try {
      return (await stat(path(name))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  };
  const requireFile = async (name: string): Promise<void> => {
    if (!(await isFile(name))) throw new ModelFileError(`${path(name)} does not exist`);
  };
  return {
    location: folder,
    has: isFile,
    readText: async (name) => {
      await requireFile(name);
      const { readFile } = await import('node:fs/promises');
      return readFile(path(name), 'utf8');
    },
    open: async (name) => {
      await requireFile(name);
      return fileByteSource(path(name));
    },
    path,
  };
}
