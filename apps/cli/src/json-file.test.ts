import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileAccessError } from '@tsformer/core-tensor';
import { makeUnusablePath, UNUSABLE_PATH_KINDS, UNUSABLE_PATH_REPORTS } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputFileError } from './cli-errors.js';
import { readJsonObject } from './json-file.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsformer-json-file-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('readJsonObject', () => {
  it('reads an object, and names the file when it is missing, not JSON or not an object', async () => {
    const write = async (name: string, text: string) => {
      await writeFile(join(scratch, name), text);
      return join(scratch, name);
    };
    expect(await readJsonObject(await write('ok.json', '{"n_layer": 2}'))).toEqual({ n_layer: 2 });
    await expect(readJsonObject(join(scratch, 'nowhere.json'))).rejects.toThrow(
      new InputFileError(`${join(scratch, 'nowhere.json')}: no such file`),
    );
    await expect(readJsonObject(await write('bad.json', '{"a":'))).rejects.toThrow(
      /bad\.json: not valid JSON/,
    );
    for (const [text, got] of [
      ['null', 'null'],
      ['[]', 'a list'],
      ['3', 'number'],
    ]) {
      const path = await write('config.json', text);
      await expect(readJsonObject(path)).rejects.toThrow(`${path} must be a JSON object, got ${got}`);
    }
  });

  it.for(UNUSABLE_PATH_KINDS)(
    'says what the path is when it is a %s (a FIFO never hangs)',
    async (kind, { skip }) => {
      const path = join(scratch, `${kind.replaceAll(/\W/g, '-')}.json`);
      if (!(await makeUnusablePath(path, kind))) return skip(`this system cannot make a ${kind}`);
      const error = await readJsonObject(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FileAccessError);
      expect((error as Error).message).toMatch(UNUSABLE_PATH_REPORTS[kind].message);
      expect((error as Error).message.startsWith(path)).toBe(true);
    },
  );
});
