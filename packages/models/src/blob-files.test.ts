import { readFile } from 'node:fs/promises';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, readJson } from '../test/decoder-fixtures.js';
import { blobFiles, fileListFiles } from './blob-files.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { ModelFileError } from './errors.js';
import { fromPretrained } from './from-pretrained.js';

const TINY = DECODER_FIXTURES['tiny-llama-docs'];
const NAMES = [
  'config.json',
  'generation_config.json',
  'model-00001-of-00002.safetensors',
  'model-00002-of-00002.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
];

/** A `File` as `<input webkitdirectory>` gives it: its path below the folder the user chose. */
async function pickedFile(folder: string, name: string): Promise<File> {
  const file = new File([await readFile(`${TINY}/${name}`)], name.split('/').pop()!);
  Object.defineProperty(file, 'webkitRelativePath', { value: `${folder}/${name}` });
  return file;
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('fileListFiles / blobFiles', () => {
  it('loads a picked folder keyed by paths below it, which generates HF greedy ids', async () => {
    const greedy = readJson<{ generate: { input_ids: number[][]; sequences: number[][] }[] }>(
      `${TINY}/reference.json`,
    ).generate[0]!;
    const files = fileListFiles(await Promise.all(NAMES.map((name) => pickedFile('tiny-llama-docs', name))));
    expect(files.location).toBe('tiny-llama-docs');
    expect(await files.has('model.safetensors.index.json')).toBe(true);
    await expectNoLeak(async () => {
      const { model } = await fromPretrained(files);
      const { sequences } = await (model as PretrainedCausalLM).generateAll(
        { inputIds: greedy.input_ids },
        { maxNewTokens: 40 },
      );
      expect(sequences).toEqual(greedy.sequences);
      model.dispose();
    });
  });

  it('reads byte ranges of a blob and names a missing file with its folder', async () => {
    const files = blobFiles(new Map([['a.bin', new Blob([new Uint8Array([1, 2, 3, 4, 5])])]]), 'dropped');
    const source = await files.open('a.bin');
    expect(source.size).toBe(5);
    expect(await source.read(1, 3)).toEqual(new Uint8Array([2, 3, 4]));
    await expect(files.readText('config.json')).rejects.toThrow(
      new ModelFileError('dropped/config.json does not exist'),
    );
    await expect(fromPretrained(files)).rejects.toThrow('dropped has no config.json');
  });
});
