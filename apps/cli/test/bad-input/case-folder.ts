// Writes a corpus case to disk: a fresh folder whose unchanged files are symbolic links to the
// fixture's (as in Hugging Face's cache, where snapshots link to blobs) and whose changed files are
// written, made into FIFOs, directories or links.
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorpusCase, FileChange } from './corpus-case.js';
import { SOURCE_FOLDERS } from './source-folders.js';

/** A case written to disk. */
export interface CaseFolder {
  readonly path: string;
  /** Unblocks whoever waits on its FIFOs (by opening them for writing), then deletes the folder. */
  remove(): Promise<void>;
  /** Unblocks readers waiting on its FIFOs: they read end-of-file. */
  releaseFifos(): Promise<void>;
}

/** Writes `corpusCase` into a new folder under `parent` (default: the system's temporary folder). */
export async function writeCaseFolder(corpusCase: CorpusCase, parent = tmpdir()): Promise<CaseFolder> {
  const source = SOURCE_FOLDERS.find((folder) => folder.name === corpusCase.folder);
  if (!source) throw new Error(`no source folder ${corpusCase.folder}`);
  const path = await mkdtemp(join(parent, 'tsformer-corpus-'));
  for (const file of source.files) {
    if (!(file in corpusCase.changes)) await symlink(`${source.path}/${file}`, join(path, file));
  }
  const fifos: string[] = [];
  for (const [file, change] of Object.entries(corpusCase.changes)) {
    const target = join(path, file);
    await rm(target, { force: true });
    if (change.kind === 'fifo') fifos.push(target);
    await writeChange(target, change);
  }
  const releaseFifos = async () => {
    for (const fifo of fifos) await releaseFifo(fifo);
  };
  return {
    path,
    releaseFifos,
    async remove() {
      await releaseFifos();
      await rm(path, { recursive: true, force: true });
    },
  };
}

async function writeChange(target: string, change: FileChange): Promise<void> {
  switch (change.kind) {
    case 'contents': {
      await writeFile(target, await change.bytes());
      return;
    }
    case 'removed':
      return;
    case 'directory':
      await mkdir(target);
      return;
    case 'fifo':
      execFileSync('mkfifo', [target]);
      return;
    case 'dangling-link':
      await symlink(`${target}.nowhere`, target);
      return;
    case 'link-loop':
      await symlink(target, target);
      return;
    case 'link':
      await symlink(change.target, target);
  }
}

/**
 * Opens the FIFO for writing without blocking and closes it: a reader blocked in `open` wakes and
 * reads end-of-file. With no reader the open fails (ENXIO), which is fine.
 */
async function releaseFifo(fifo: string): Promise<void> {
  try {
    const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.close();
  } catch {
    // no reader waiting, or the folder is gone
  }
}
