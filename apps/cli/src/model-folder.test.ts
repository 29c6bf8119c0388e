import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeUnusablePath } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../test/run-cli.js';
import { EXIT_FAILURE } from './cli-errors.js';
import { requireFolder } from './model-folder.js';

const GPT2 = `${FIXTURES}/gpt2`;
const GPT2_FILES = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
];
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-model-folder-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** The gpt2 fixture folder, its files linked, with `broken` replaced by a FIFO; undefined without mkfifo. */
async function folderWithFifo(broken: string): Promise<string | undefined> {
  const folder = join(scratch, `fifo-${broken}`);
  await mkdir(folder);
  for (const name of GPT2_FILES) if (name !== broken) await symlink(join(GPT2, name), join(folder, name));
  return (await makeUnusablePath(join(folder, broken), 'fifo')) ? folder : undefined;
}

describe('requireFolder', () => {
  it('says what stands where the model folder should be', async () => {
    await expect(requireFolder(join(scratch, 'nowhere'))).rejects.toThrow(
      `model folder ${join(scratch, 'nowhere')} does not exist`,
    );
    await writeFile(join(scratch, 'a-file'), '');
    await expect(requireFolder(join(scratch, 'a-file'))).rejects.toThrow(
      `model folder ${join(scratch, 'a-file')} is a regular file, not a directory`,
    );
    await symlink(join(scratch, 'gone'), join(scratch, 'dangling'));
    await expect(requireFolder(join(scratch, 'dangling'), 'reference folder')).rejects.toThrow(
      `reference folder ${join(scratch, 'dangling')} is a dangling symbolic link`,
    );
    await expect(requireFolder(GPT2)).resolves.toBeUndefined();
  });
});

describe('the tsformer command on files that are not regular files', () => {
  it('exits 1 naming a FIFO given as --config, instead of hanging', async ({ skip }) => {
    const fifo = join(scratch, 'config-fifo.json');
    if (!(await makeUnusablePath(fifo, 'fifo'))) return skip('this system cannot make a FIFO');
    const run = runCli(['inspect', '--config', fifo]);
    expect(run.status).toBe(EXIT_FAILURE);
    expect(run.stderr).toBe(`tsformer: ${fifo} is a FIFO (named pipe), not a regular file\n`);
  });

  it.for(['config.json', 'model.safetensors', 'tokenizer.json'])(
    'exits 1 naming a FIFO in place of %s of the model folder',
    async (broken, { skip }) => {
      const folder = await folderWithFifo(broken);
      if (!folder) return skip('this system cannot make a FIFO');
      const run = runCli(['generate', '--model', folder, '--max-new-tokens', '1', '--prompt', 'Hi']);
      expect(run.status).toBe(EXIT_FAILURE);
      expect(run.stderr).toBe(
        `tsformer: ${join(folder, broken)} is a FIFO (named pipe), not a regular file\n`,
      );
    },
  );
});

describe('--backend cpu', () => {
  it('generates without tfjs-backend-cpu\'s "running TensorFlow.js in Node.js" banner', () => {
    const run = runCli([
      'generate',
      '--model',
      GPT2,
      '--backend',
      'cpu',
      '--max-new-tokens',
      '2',
      '--prompt',
      'Hi',
    ]);
    expect(run.status).toBe(0);
    expect(run.stderr).not.toMatch(/TensorFlow\.js in Node\.js|Hi, looks like/);
  });
});
