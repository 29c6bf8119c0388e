import type { ByteSource } from '@tsformer/core-tensor';
import { ModelFileError } from './errors.js';
import type { ModelFiles } from './model-files.js';

/**
 * A model folder from `Blob`s keyed by their path inside the folder (`config.json`,
 * `model-00001-of-00002.safetensors`): files a user dropped on a page or picked. Nothing is read
 * until asked; safetensors are read one tensor at a time through `Blob.slice`, never whole.
 */
export function blobFiles(blobs: ReadonlyMap<string, Blob>, location: string): ModelFiles {
  const get = (name: string): Blob => {
    const blob = blobs.get(name);
    if (blob === undefined) throw new ModelFileError(`${location}/${name} does not exist`);
    return blob;
  };
  return {
    location,
    has: async (name) => blobs.has(name),
    readText: async (name) => get(name).text(),
    open: async (name) => blobByteSource(get(name)),
    path: (name) => `${location}/${name}`,
  };
}

/**
 * The files of a folder chosen through `<input type="file" webkitdirectory>` (or
 * `showDirectoryPicker` flattened to `File`s with `webkitRelativePath`): each file is keyed by its path
 * below the chosen folder, and the folder's name is the location. Plain files (no relative path, as
 * from a multi-file picker) are keyed by their names.
 */
export function fileListFiles(files: Iterable<File>): ModelFiles {
  const blobs = new Map<string, Blob>();
  let folder: string | undefined;
  for (const file of files) {
    const relative = file.webkitRelativePath || file.name;
    const slash = relative.indexOf('/');
    folder ??= slash === -1 ? '' : relative.slice(0, slash);
    blobs.set(slash === -1 ? relative : relative.slice(slash + 1), file);
  }
  return blobFiles(blobs, folder || 'chosen files');
}

function blobByteSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}
