// Node-only file access that never hangs: a path is looked at (lstat, then stat) before it is
// opened, and only regular files are opened. node:fs is imported on first use, so importing
// @tsformer/core-tensor in a browser never touches it.
import type { FileHandle } from 'node:fs/promises';
import { loadFileSystem, loadPath } from '#node-builtins';
import { FileAccessError, type PathKind } from './errors.js';

/** What is at a path: its kind, its size (regular files) and, for a symbolic link, where it points. */
export interface PathInfo {
  readonly kind: PathKind;
  /** Bytes, for a regular file; 0 otherwise. */
  readonly size: number;
  /** The link's target as written in the link, when `path` is a symbolic link. */
  readonly linkTarget?: string;
  /** The system's error code, when the kind is `unreadable`. */
  readonly errorCode?: string;
}

/**
 * Looks at `path` without opening it: a regular file, a directory, missing, or something that
 * cannot be read as either (FIFO, socket, device, dangling or looping link, no permission).
 * Symbolic links are followed; `linkTarget` says where one points.
 */
export async function inspectPath(path: string): Promise<PathInfo> {
  const { lstat, readlink, stat } = await loadFileSystem();
  let entry: Awaited<ReturnType<typeof lstat>>;
  try {
    entry = await lstat(path);
  } catch (error) {
    return { kind: kindOfError(error, 'missing'), size: 0, errorCode: errorCode(error) };
  }
  if (!entry.isSymbolicLink()) return { kind: kindOfStats(entry), size: entry.size };
  const linkTarget = await readlink(path).catch(() => '?');
  try {
    const target = await stat(path);
    return { kind: kindOfStats(target), size: target.size, linkTarget };
  } catch (error) {
    return {
      kind: kindOfError(error, 'dangling symbolic link'),
      size: 0,
      linkTarget,
      errorCode: errorCode(error),
    };
  }
}

/** Throws a FileAccessError saying what `path` is, unless it is (a link to) a regular file; returns its size. */
export async function requireRegularFile(path: string): Promise<number> {
  const info = await inspectPath(path);
  if (info.kind !== 'file') throw accessError(path, info, 'file');
  return info.size;
}

/** Throws a FileAccessError saying what `path` is, unless it is (a link to) a directory. */
export async function requireDirectory(path: string): Promise<void> {
  const info = await inspectPath(path);
  if (info.kind !== 'directory') throw accessError(path, info, 'directory');
}

/** The FileAccessError for finding `info` at `path` where `expected` was needed. */
function accessError(path: string, info: PathInfo, expected: 'file' | 'directory'): FileAccessError {
  const { kind, linkTarget, errorCode } = info;
  return new FileAccessError(path, kind, expected, kind === 'unreadable' ? errorCode : linkTarget);
}

/**
 * Opens a regular file for reading. The file is opened non-blocking and checked again through its
 * handle, so a FIFO put in its place after `requireRegularFile` looked cannot make this hang.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const { constants, open } = await loadFileSystem();
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fileSystemError(path, error);
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    await requireRegularFile(path);
    throw new FileAccessError(path, 'unreadable', 'file', 'it changed while being opened');
  }
  return handle;
}

/** The text (UTF-8) of a regular file; a FileAccessError saying what `path` is otherwise. */
export async function readTextFile(path: string): Promise<string> {
  await requireRegularFile(path);
  const handle = await openRegularFile(path);
  try {
    return await handle.readFile('utf8');
  } catch (error) {
    throw fileSystemError(path, error);
  } finally {
    await handle.close();
  }
}

/**
 * Writes `contents` to the file `name` in `folder` (creating the folder and any missing parents) and
 * returns the file's path; a FileAccessError names the path when the file system refuses.
 */
export async function writeFolderFile(
  folder: string,
  name: string,
  contents: string | Uint8Array,
): Promise<string> {
  const { mkdir, writeFile } = await loadFileSystem();
  const { join } = await loadPath();
  const path = join(folder, name);
  try {
    await mkdir(folder, { recursive: true });
    await writeFile(path, contents);
  } catch (error) {
    throw fileSystemError(path, error);
  }
  return path;
}

/** A FileAccessError for a failed file-system call on `path` (permission denied, link loop, ...). */
export function fileSystemError(path: string, error: unknown): FileAccessError {
  const kind = kindOfError(error, 'unreadable');
  const detail = kind === 'unreadable' ? errorCode(error) : undefined;
  return new FileAccessError(path, kind, 'file', detail, { cause: error });
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String((error as Error).message ?? error);
}

function kindOfStats(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
}): PathKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  return stats.isCharacterDevice() ? 'character device' : 'block device';
}

/** The kind an errno error reveals; `absent` for "no such file" (missing, or a link to nothing). */
function kindOfError(error: unknown, absent: PathKind): PathKind {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return absent;
    case 'ELOOP':
      return 'symbolic link loop';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'directory';
    default:
      return 'unreadable';
  }
}
