import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileAccessError, serializeSafetensors, useBackend, WeightLoadingError } from '@tsformer/core-tensor';
import {
  assertClose,
  expectNoLeak,
  makeUnusablePath,
  runsAsRoot,
  UNUSABLE_PATH_KINDS,
  UNUSABLE_PATH_REPORTS,
} from '@tsformer/core-tensor/testing';
import { GenerationConfigError } from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, ids, readDecoderReference, readJson } from '../test/decoder-fixtures.js';
import type { BartForConditionalGeneration } from './bart/bart-model.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { ConfigFieldError } from './config-fields.js';
import { ChatTemplateError, ModelFileError, TokenizerFileError, UnknownModelTypeError } from './errors.js';
import { fromPretrained } from './from-pretrained.js';
import { filesInMemory } from './model-files.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Every file of a fixture folder, in memory, with `changes` applied (null removes a file). */
function fixtureFiles(
  folder: string,
  names: string[],
  changes: Record<string, string | Uint8Array | null> = {},
): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {};
  for (const name of names) files[name] = new Uint8Array(readFileSync(`${folder}/${name}`));
  for (const [name, content] of Object.entries(changes)) {
    if (content === null) delete files[name];
    else files[name] = content;
  }
  return files;
}

const gpt2Names = [
  'config.json',
  'generation_config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
];
const gpt2Config = JSON.parse(readFileSync(`${DECODER_FIXTURES.gpt2}/config.json`, 'utf8'));

describe('fromPretrained', () => {
  it('loads a folder: model, tokenizer and generation config', async () => {
    await expectNoLeak(async () => {
      const { model, tokenizer, generationConfig, family, weights } = await fromPretrained(
        DECODER_FIXTURES.gpt2,
        { backend: 'wasm' },
      );
      expect(tf.getBackend()).toBe('wasm');
      expect(family.modelType).toBe('gpt2');
      expect(model.numParameters()).toBe(readDecoderReference('gpt2').num_parameters);
      expect(tokenizer!.encode('Hello, my dog is cute and')).toEqual([15496, 11, 616, 3290, 318, 13779, 290]);
      expect(generationConfig).toMatchObject({ bosTokenId: 50256, eosTokenId: [50256] });
      expect((model as PretrainedCausalLM).generationConfig).toBe(generationConfig);
      expect(weights.ignored).toEqual([]);
      model.dispose();
    });
  });

  it('generates through decoding: model.generateAll gives HF greedy sequence, its defaults from the folder', async () => {
    await expectNoLeak(async () => {
      const { model, tokenizer } = await fromPretrained(DECODER_FIXTURES['tiny-llama-docs']);
      const causal = model as PretrainedCausalLM;
      const greedy = readJson<{
        generate: { kwargs: object; input_ids: number[][]; sequences: number[][] }[];
      }>(`${DECODER_FIXTURES['tiny-llama-docs']}/reference.json`).generate[0]!;
      const { sequences } = await causal.generateAll({ inputIds: greedy.input_ids }, { maxNewTokens: 40 });
      expect(sequences).toEqual(greedy.sequences);
      let streamed = 0;
      for await (const step of causal.generate({ inputIds: greedy.input_ids }, { maxNewTokens: 3 })) {
        streamed += step.newTokens[0]!.length;
      }
      expect(streamed).toBe(3);
      expect(tokenizer!.decode(sequences[0]!, { skipSpecialTokens: true })).toMatch(/^Return the number of/);
      model.dispose();
    });
  });

  it('gives an encoder-decoder its folder generation defaults (decoder start, forced EOS)', async () => {
    await expectNoLeak(async () => {
      const folder = 'fixtures/hf-reference/bart';
      const { model } = await fromPretrained(new URL(`../../../${folder}`, import.meta.url).pathname);
      const bart = model as BartForConditionalGeneration;
      expect(bart.generationConfig).toMatchObject({
        decoderStartTokenId: 2,
        forcedEosTokenId: [2],
        padTokenId: 1,
      });
      const greedy = readJson<{
        generate: { name: string; input_ids: number[][]; sequences: number[][] }[];
      }>(new URL(`../../../${folder}/reference.json`, import.meta.url).pathname).generate.find(
        (c) => c.name === 'greedy',
      )!;
      const { sequences } = await bart.generateAll({ inputIds: greedy.input_ids }, { maxNewTokens: 16 });
      expect(sequences).toEqual(greedy.sequences);
      model.dispose();
    });
  });

  it('loads a sharded bfloat16 folder (tiny-llama-docs) with its tied head', async () => {
    await expectNoLeak(async () => {
      const { model, config } = await fromPretrained(DECODER_FIXTURES['tiny-llama-docs']);
      expect(config).toMatchObject({ tieWordEmbeddings: true, numKeyValueHeads: 2 });
      expect(model.numParameters()).toBe(readDecoderReference('tiny-llama-docs').num_parameters);
      model.dispose();
    });
  });

  it('loads the same model from files in memory (the browser path) and gives the same logits', async () => {
    await expectNoLeak(async () => {
      const fromDisk = (await fromPretrained(DECODER_FIXTURES.gpt2)).model as PretrainedCausalLM;
      const inMemory = await fromPretrained(
        filesInMemory(fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names), 'gpt2'),
      );
      const model = inMemory.model as PretrainedCausalLM;
      const input = ids([[15496, 11, 616]]);
      const [a, b] = [fromDisk.forward(input).logits, model.forward(input).logits];
      assertClose(a, b, 0, 'logits');
      tf.dispose([input, a, b]);
      fromDisk.dispose();
      model.dispose();
    });
  });

  it('falls back to config.json token ids without generation_config.json', async () => {
    const files = filesInMemory(
      fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, { 'generation_config.json': null }),
    );
    const { model, generationConfig } = await fromPretrained(files);
    expect(generationConfig).toEqual({ bosTokenId: 50256, eosTokenId: [50256] });
    model.dispose();
  });

  it('names what is wrong: model_type, config field, missing file, weights', async () => {
    const withConfig = (config: object) =>
      filesInMemory(
        fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, { 'config.json': JSON.stringify(config) }),
        'gpt2',
      );
    await expect(fromPretrained(withConfig({ ...gpt2Config, model_type: 'gptj' }))).rejects.toThrow(
      UnknownModelTypeError,
    );
    await expect(fromPretrained(withConfig({ ...gpt2Config, n_head: 5 }))).rejects.toThrow(ConfigFieldError);
    await expect(fromPretrained(withConfig({ ...gpt2Config, n_head: 5 }))).rejects.toThrow(
      'gpt2/config.json: gpt2 config: n_head (5) must divide n_embd (32)',
    );
    await expect(fromPretrained(withConfig({ ...gpt2Config, model_type: 'gptj' }))).rejects.toThrow(
      /^gpt2\/config\.json: unknown model_type "gptj"/,
    );
    await expect(fromPretrained(filesInMemory({}, 'empty'))).rejects.toThrow(/empty has no config.json/);
    const noWeights = filesInMemory(
      fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, { 'model.safetensors': null }),
    );
    await expect(fromPretrained(noWeights)).rejects.toThrow(ModelFileError);
    await expect(fromPretrained(withConfig({ ...gpt2Config, n_layer: 3 }))).rejects.toThrow(
      /missing 12: transformer\.h\.2\.ln_1\.weight/,
    );
  });

  it('reports a checkpoint tensor of the wrong shape by name, and frees what it built', async () => {
    await expectNoLeak(async () => {
      const weights = tf.tensor2d([[1, 2]]);
      const files = filesInMemory({
        'config.json': JSON.stringify({
          model_type: 'gpt2',
          n_layer: 1,
          vocab_size: 3,
          n_embd: 4,
          n_head: 1,
          bos_token_id: null,
          eos_token_id: null,
        }),
        'model.safetensors': serializeSafetensors({ 'wte.weight': weights }),
      });
      const error = await fromPretrained(files).catch((caught) => caught);
      expect(error).toBeInstanceOf(WeightLoadingError);
      expect(error.message).toMatch(/wte\.weight is \[1,2\] but the model needs \[3,4\]/);
      weights.dispose();
    });
  });
});

describe('fromPretrained with broken files', () => {
  it('says config.json must be a JSON object, naming what it is instead', async () => {
    for (const [text, got] of [
      ['null', 'null'],
      ['[1]', 'a list'],
      ['"gpt2"', 'string'],
    ]) {
      const files = filesInMemory(
        fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, { 'config.json': text }),
        'm',
      );
      await expect(fromPretrained(files)).rejects.toThrow(`m/config.json must be a JSON object, got ${got}`);
    }
  });

  it('loads and generates with a chat template that does not parse; only chat fails, naming the file', async () => {
    await expectNoLeak(async () => {
      const files = filesInMemory(
        fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, {
          'tokenizer_config.json': JSON.stringify({ chat_template: '{% if %}' }),
        }),
        'gpt2',
      );
      const { model, tokenizer } = await fromPretrained(files);
      const { sequences } = await (model as PretrainedCausalLM).generateAll(
        { inputIds: [tokenizer!.encode('Hello')] },
        { maxNewTokens: 2 },
      );
      expect(sequences[0]).toHaveLength(3);
      expect(() => tokenizer!.encodeChat([{ role: 'user', content: 'Hi' }])).toThrow(ChatTemplateError);
      expect(() => tokenizer!.encodeChat([{ role: 'user', content: 'Hi' }])).toThrow(
        /^gpt2\/tokenizer_config\.json chat_template does not parse/,
      );
      model.dispose();
    });
  });

  it('names the file of a bad token id: config.json or generation_config.json', async () => {
    const withFiles = (changes: Record<string, string>) =>
      filesInMemory(fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, changes), 'gpt2');
    const error = await fromPretrained(
      withFiles({ 'config.json': JSON.stringify({ ...gpt2Config, eos_token_id: -1 }) }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigFieldError);
    expect(error).toMatchObject({ file: 'gpt2/config.json', field: 'eos_token_id' });
    expect((error as Error).message).toMatch(/^gpt2\/config\.json: gpt2 config: eos_token_id must be/);
    const fromGenerationConfig = await fromPretrained(
      withFiles({ 'generation_config.json': JSON.stringify({ max_length: 0 }) }),
    ).catch((caught: unknown) => caught);
    expect(fromGenerationConfig).toBeInstanceOf(GenerationConfigError);
    expect((fromGenerationConfig as Error).message).toBe(
      'gpt2/generation_config.json: `maxLength` (max_length) must be an integer >= 1, got 0',
    );
  });

  it('leaks nothing when tokenizer.json cannot be used and the weights are there to load', async () => {
    await expectNoLeak(async () => {
      const tokenizerJson = JSON.parse(readFileSync(`${DECODER_FIXTURES.gpt2}/tokenizer.json`, 'utf8'));
      // As text: JSON.stringify itself recurses too deep for 10,000 levels.
      const preTokenizer = `${'{"type":"Sequence","pretokenizers":['.repeat(10_000)}${JSON.stringify(
        tokenizerJson.pre_tokenizer,
      )}${']}'.repeat(10_000)}`;
      const text = JSON.stringify({ ...tokenizerJson, pre_tokenizer: 'HERE' }).replace(
        '"HERE"',
        preTokenizer,
      );
      const files = filesInMemory(
        fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, { 'tokenizer.json': text }),
        'gpt2',
      );
      const error = await fromPretrained(files).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TokenizerFileError);
      expect((error as Error).message).toBe(
        "gpt2/tokenizer.json: pre_tokenizer: nests more than 128 deep (Hugging Face tokenizers' limit)",
      );
    });
  });

  it('names tokenizer.json and the field for an unknown decoder, before reading any weight', async () => {
    await expectNoLeak(async () => {
      const tokenizerJson = JSON.parse(readFileSync(`${DECODER_FIXTURES.gpt2}/tokenizer.json`, 'utf8'));
      const files = filesInMemory(
        fixtureFiles(DECODER_FIXTURES.gpt2, gpt2Names, {
          'tokenizer.json': JSON.stringify({ ...tokenizerJson, decoder: { type: 'Bogus' } }),
          'model.safetensors': null,
        }),
        'gpt2',
      );
      await expect(fromPretrained(files)).rejects.toThrow(
        'gpt2/tokenizer.json: decoder.type: unknown decoder type "Bogus"',
      );
    });
  });
});

describe.each(UNUSABLE_PATH_KINDS)('fromPretrained on a folder where a file is a %s', (kind) => {
  const { found, message } = UNUSABLE_PATH_REPORTS[kind];
  const sharded = DECODER_FIXTURES['tiny-llama-docs'];
  const shardedNames = [
    'config.json',
    'generation_config.json',
    'model.safetensors.index.json',
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
  ];
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tsformer-kinds-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  /** The sharded folder, its files linked (not copied), with `broken` made a `kind` (and `dropped` left out). */
  async function folderWith(broken: string, dropped: string[] = []): Promise<string | undefined> {
    const folder = join(scratch, broken);
    await mkdir(folder);
    for (const name of shardedNames) {
      if (name !== broken && !dropped.includes(name)) await symlink(join(sharded, name), join(folder, name));
    }
    return (await makeUnusablePath(join(folder, broken), kind)) ? folder : undefined;
  }

  for (const broken of shardedNames) {
    it(`reports ${broken} for what it is, leaking nothing`, async ({ skip }) => {
      const folder = await folderWith(broken);
      if (!folder) return skip(`this system cannot make a ${kind}`);
      await expectNoLeak(async () => {
        const error = await fromPretrained(folder).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(FileAccessError);
        expect((error as FileAccessError).found).toBe(found);
        expect((error as FileAccessError).path).toBe(join(folder, broken));
        expect((error as Error).message).toMatch(message);
      });
    });
  }

  it('reports model.safetensors for what it is, not as "holds neither model.safetensors nor …"', async ({
    skip,
  }) => {
    const folder = await folderWith(
      'model.safetensors',
      shardedNames.filter((name) => name.includes('safetensors')),
    );
    if (!folder) return skip(`this system cannot make a ${kind}`);
    const error = await fromPretrained(folder).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(join(folder, 'model.safetensors'));
  });
});

describe('fromPretrained on files it may not read', () => {
  it.skipIf(runsAsRoot())(
    'says permission denied, naming the file (skipped as root: permission bits do not stop root)',
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'tsformer-denied-'));
      try {
        for (const name of gpt2Names) await symlink(join(DECODER_FIXTURES.gpt2, name), join(folder, name));
        await rm(join(folder, 'tokenizer.json'));
        await writeFile(join(folder, 'tokenizer.json'), '{}');
        await chmod(join(folder, 'tokenizer.json'), 0o000);
        await expect(fromPretrained(folder)).rejects.toThrow(
          `${join(folder, 'tokenizer.json')}: permission denied`,
        );
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
  );
});
