import {
  blobFiles,
  fileListFiles,
  hubFiles,
  type LoadProgressListener,
  type ModelFiles,
} from '@tsformer/models';

/** The bundled model, served by the page's own server in Hugging Face's layout (and cached like any URL). */
export function bundledModel(onProgress: LoadProgressListener): ModelFiles {
  return hubFiles('tsformer/tiny-llama-docs', { baseUrl: new URL('hub', document.baseURI).href, onProgress });
}

/** A repository at a Hub (or a server with the same `{base}/{repo}/resolve/{revision}/{file}` layout). */
export function urlModel(
  base: string,
  repo: string,
  revision: string,
  onProgress: LoadProgressListener,
): ModelFiles {
  return hubFiles(repo.trim().replace(/^\/+|\/+$/g, ''), {
    baseUrl: base.trim(),
    revision: revision.trim() || 'main',
    onProgress,
  });
}

/** The folder chosen in `<input webkitdirectory>`. */
export function pickedFolder(input: HTMLInputElement): ModelFiles {
  return fileListFiles(Array.from(input.files ?? []));
}

/**
 * What was dropped: one folder (its files keyed by their paths inside it) or loose files (by name).
 * Folders are walked through the File and Directory Entries API; nothing is read but the listing.
 */
export async function droppedFolder(transfer: DataTransfer): Promise<ModelFiles> {
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  const blobs = new Map<string, Blob>();
  // Files without entries (a DataTransfer built by a script): keyed by their names.
  if (entries.length === 0) {
    for (const file of Array.from(transfer.files)) blobs.set(file.name, file);
    return blobFiles(blobs, 'dropped files');
  }
  const single =
    entries.length === 1 && entries[0]!.isDirectory ? (entries[0] as FileSystemDirectoryEntry) : undefined;
  if (single) await collect(single, '', blobs);
  else
    for (const entry of entries)
      if (entry.isFile) blobs.set(entry.name, await fileOf(entry as FileSystemFileEntry));
  return blobFiles(blobs, single?.name ?? 'dropped files');
}

async function collect(
  directory: FileSystemDirectoryEntry,
  prefix: string,
  into: Map<string, Blob>,
): Promise<void> {
  for (const entry of await listAll(directory)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) await collect(entry as FileSystemDirectoryEntry, `${path}/`, into);
    else into.set(path, await fileOf(entry as FileSystemFileEntry));
  }
}

/** Every entry of a directory (`readEntries` answers in batches until an empty one). */
async function listAll(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((done, fail) => reader.readEntries(done, fail));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((done, fail) => entry.file(done, fail));
}
