// Node-only helpers for tests that put something other than a regular file where a file belongs.
import type { PathKind } from '../errors.js';

/** What a user can put where a model file should be, other than a readable regular file. */
export const UNUSABLE_PATH_KINDS = [
  'directory',
  'fifo',
  'dangling symbolic link',
  'symbolic link loop',
  'symbolic link to /dev/zero',
] as const;
export type UnusablePathKind = (typeof UNUSABLE_PATH_KINDS)[number];

/** What each unusable path is reported as (`FileAccessError.found`) and the message that says so. */
export const UNUSABLE_PATH_REPORTS: Readonly<Record<UnusablePathKind, { found: PathKind; message: RegExp }>> =
  {
    directory: { found: 'directory', message: /is a directory, not a regular file/ },
    fifo: { found: 'fifo', message: /is a FIFO \(named pipe\), not a regular file/ },
    'dangling symbolic link': {
      found: 'dangling symbolic link',
      message: /is a dangling symbolic link \(to /,
    },
    'symbolic link loop': { found: 'symbolic link loop', message: /is a symbolic link loop/ },
    'symbolic link to /dev/zero': {
      found: 'character device',
      message: /is a symbolic link to \/dev\/zero, a character device, not a regular file/,
    },
  };

/**
 * Makes `kind` at `path` (which must not exist). Returns false when this system cannot make it
 * (no `mkfifo` command, no /dev/zero, no symbolic links), so that the test can skip and say why.
 */
export async function makeUnusablePath(path: string, kind: UnusablePathKind): Promise<boolean> {
  const { mkdir, symlink } = await import('node:fs/promises');
  const { spawnSync } = await import('node:child_process');
  try {
    switch (kind) {
      case 'directory':
        await mkdir(path);
        return true;
      case 'fifo':
        return spawnSync('mkfifo', [path]).status === 0;
      case 'dangling symbolic link':
        await symlink(`${path}.nowhere`, path);
        return true;
      case 'symbolic link loop':
        await symlink(path, path);
        return true;
      case 'symbolic link to /dev/zero':
        await symlink('/dev/zero', path);
        return (await import('node:fs')).existsSync('/dev/zero');
    }
  } catch {
    return false;
  }
}

/** True when this process runs as root, which file permission bits do not stop. */
export function runsAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
