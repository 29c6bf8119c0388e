import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccessError } from './errors.js';
import {
  fileSystemError,
  inspectPath,
  readTextFile,
  requireDirectory,
  requireRegularFile,
} from './node-files.js';
import {
  makeUnusablePath,
  runsAsRoot,
  UNUSABLE_PATH_KINDS,
  UNUSABLE_PATH_REPORTS,
} from './testing/unusable-paths.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-node-files-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<FileAccessError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof FileAccessError))
    throw new Error(`expected a FileAccessError, got ${String(error)}`);
  return error;
}

describe('reading files that are files', () => {
  it('reads a regular file and a symbolic link to one', async () => {
    const path = join(scratch, 'plain.json');
    await writeFile(path, '{"a": 1}');
    await symlink(path, join(scratch, 'link.json'));
    expect(await readTextFile(path)).toBe('{"a": 1}');
    expect(await readTextFile(join(scratch, 'link.json'))).toBe('{"a": 1}');
    expect(await requireRegularFile(join(scratch, 'link.json'))).toBe(8);
    expect(await inspectPath(join(scratch, 'link.json'))).toEqual({
      kind: 'file',
      size: 8,
      linkTarget: path,
    });
  });

  it('says a missing path does not exist, and so does a path under a file', async () => {
    const missing = await rejection(readTextFile(join(scratch, 'nowhere.json')));
    expect(missing.found).toBe('missing');
    expect(missing.message).toBe(`${join(scratch, 'nowhere.json')} does not exist`);
    await writeFile(join(scratch, 'a-file'), '');
    expect((await inspectPath(join(scratch, 'a-file', 'config.json'))).kind).toBe('missing');
  });
});

describe.each(UNUSABLE_PATH_KINDS)('a %s where a file should be', (kind) => {
  const { found, message } = UNUSABLE_PATH_REPORTS[kind];

  it('is named by what it is, never opened (so never hangs)', async ({ skip }) => {
    const path = join(scratch, `${kind.replaceAll(/\W/g, '-')}.json`);
    if (!(await makeUnusablePath(path, kind))) skip(`this system cannot make a ${kind}`);
    // One call at a time: a second promise made up front would reject before anything awaits it.
    for (const attempt of [readTextFile, requireRegularFile]) {
      const error = await rejection(attempt(path));
      expect(error.path).toBe(path);
      expect(error.found).toBe(found);
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(path)).toBe(true);
    }
  });
});

describe('what is not a directory', () => {
  it('says what stands where a directory should be', async () => {
    await writeFile(join(scratch, 'config-file'), '{}');
    expect((await rejection(requireDirectory(join(scratch, 'config-file')))).message).toBe(
      `${join(scratch, 'config-file')} is a regular file, not a directory`,
    );
    expect((await rejection(requireDirectory(join(scratch, 'no-folder')))).found).toBe('missing');
    await mkdir(join(scratch, 'a-folder'));
    await expect(requireDirectory(join(scratch, 'a-folder'))).resolves.toBeUndefined();
  });
});

describe('permissions and failed system calls', () => {
  it.skipIf(runsAsRoot())(
    'says permission denied for a file it may not read (skipped as root: permission bits do not stop root)',
    async () => {
      const path = join(scratch, 'secret.json');
      await writeFile(path, '{}');
      await chmod(path, 0o000);
      const error = await rejection(readTextFile(path));
      expect(error.found).toBe('permission denied');
      expect(error.message).toBe(`${path}: permission denied`);
    },
  );

  it('turns the errors of system calls into FileAccessErrors naming the path', () => {
    const failure = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
    expect(fileSystemError('w.safetensors', failure('EACCES')).message).toBe(
      'w.safetensors: permission denied',
    );
    expect(fileSystemError('w.safetensors', failure('ELOOP')).message).toBe(
      'w.safetensors is a symbolic link loop',
    );
    expect(fileSystemError('w.safetensors', failure('EISDIR')).found).toBe('directory');
    const io = fileSystemError('w.safetensors', failure('EIO'));
    expect(io.message).toBe('w.safetensors cannot be read (EIO)');
    expect((io.cause as Error).message).toBe('EIO: failed');
  });
});
